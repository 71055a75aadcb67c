import Testing

@testable import RedisBridge

private let incrementScript = RedisScript(
    """
    if ARGV[1] == 'bad' then return redis.error_reply('BAD input') end
    return redis.call('INCRBY', KEYS[1], ARGV[1])
    """
)

@Suite("Scripts", .timeLimit(.minutes(1)))
struct RedisScriptTests {
    @Test func evalSHALoadsOnceThenReuses() async throws {
        let prefix = TestEnvironment.uniquePrefix("evalsha")
        try await withClient(try TestEnvironment.sharedConfiguration()) { client in
            #expect(try await client.evalSHA(incrementScript, keys: [prefix + "k"], arguments: ["2"]) == .integer(2))
            #expect(client.scriptLoadCount.load(ordering: .relaxed) == 1)
            for expected in stride(from: 5, through: 32, by: 3) {
                #expect(
                    try await client.evalSHA(incrementScript, keys: [prefix + "k"], arguments: ["3"])
                        == .integer(Int64(expected))
                )
            }
            #expect(client.scriptLoadCount.load(ordering: .relaxed) == 1)

            let sha = try await client.sha1(of: incrementScript)
            #expect(sha.count == 40)
            #expect(try await client.send("SCRIPT", "LOAD", incrementScript.source).string == sha)
            #expect(client.scriptLoadCount.load(ordering: .relaxed) == 1)

            let error = await redisError {
                try await client.evalSHA(incrementScript, keys: [prefix + "k"], arguments: ["bad"])
            }
            #expect(error?.kind == .serverError)
            #expect(error?.message == "BAD input")

            let replies = try await client.evalSHAPipeline(
                incrementScript,
                calls: [([prefix + "p"], ["1"]), ([prefix + "p"], ["bad"]), ([prefix + "p"], ["10"])]
            )
            #expect(replies == [.integer(1), .error("BAD input"), .integer(11)])
            #expect(try await client.evalSHAPipeline(incrementScript, calls: []) == [])
            #expect(client.scriptLoadCount.load(ordering: .relaxed) == 1)
            _ = try await client.send("DEL", prefix + "k", prefix + "p")
        }
    }

    /// SCRIPT FLUSH runs on a private server so it cannot disturb other users of the shared one.
    @Test func recoversFromNoScriptAfterScriptFlush() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        var configuration = server.configuration
        configuration.poolSize = 2
        try await withClient(configuration) { client in
            #expect(try await client.evalSHA(incrementScript, keys: ["k"], arguments: ["1"]) == .integer(1))
            #expect(client.scriptLoadCount.load(ordering: .relaxed) == 1)

            #expect(try await client.send("SCRIPT", "FLUSH") == .status("OK"))
            #expect(try await client.evalSHA(incrementScript, keys: ["k"], arguments: ["1"]) == .integer(2))
            #expect(client.scriptLoadCount.load(ordering: .relaxed) == 2)

            #expect(try await client.send("SCRIPT", "FLUSH") == .status("OK"))
            let calls = (0..<50).map { index in (keys: ["k"], arguments: [index == 7 ? "bad" : "1"]) }
            let replies = try await client.evalSHAPipeline(incrementScript, calls: calls)
            #expect(replies.count == 50)
            #expect(replies[7] == .error("BAD input"))
            #expect(replies.filter { $0.integer != nil }.count == 49)
            #expect(replies.last == .integer(51))
            #expect(client.scriptLoadCount.load(ordering: .relaxed) == 3)
            #expect(try await client.send("GET", "k").integer == 51)
        }
    }
}
