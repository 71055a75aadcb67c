import RedisBridge
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("RedisClient against the shared Redis", .timeLimit(.minutes(2)))
struct RedisClientTests {
    @Test func pipelineKeepsReplyOrder() async throws {
        let prefix = TestEnvironment.uniquePrefix("pipeline")
        try await withClient(try TestEnvironment.sharedConfiguration()) { client in
            var commands: [[String]] = []
            for index in 0..<200 {
                commands.append(["ECHO", "value-\(index)"])
                if index == 100 {
                    commands.append(["NOSUCHCOMMAND"])
                }
            }
            commands.append(["SET", prefix + "k", "v"])
            commands.append(["GET", prefix + "k"])
            commands.append(["INCR", prefix + "k"])
            commands.append(["DEL", prefix + "k"])

            let replies = try await client.pipeline(commands)
            try #require(replies.count == commands.count)
            for index in 0...100 {
                #expect(replies[index].string == "value-\(index)")
            }
            guard case .error(let message) = replies[101] else {
                Issue.record("expected an error reply in place, got \(replies[101])")
                return
            }
            #expect(message.hasPrefix("ERR unknown command"))
            for index in 101..<200 {
                #expect(replies[index + 1].string == "value-\(index)")
            }
            #expect(replies[201] == .status("OK"))
            #expect(replies[202].string == "v")
            #expect(replies[203] == .error("ERR value is not an integer or out of range"))
            #expect(replies[204] == .integer(1))

            #expect(try await client.pipeline([]) == [])
        }
    }

    @Test func concurrentCallersGetTheirOwnReplies() async throws {
        let prefix = TestEnvironment.uniquePrefix("concurrency")
        let tasks = 64
        let callsPerTask = 150
        try await withClient(try TestEnvironment.sharedConfiguration(poolSize: 8)) { client in
            let (mismatches, duration) = try await elapsed {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for task in 0..<tasks {
                        group.addTask {
                            var mismatches = 0
                            let key = prefix + "counter-\(task)"
                            for call in 1...callsPerTask {
                                let count = try await client.send("INCR", key)
                                if count != .integer(Int64(call)) {
                                    mismatches += 1
                                }
                                let token = "task-\(task)-call-\(call)"
                                if try await client.send("ECHO", token).string != token {
                                    mismatches += 1
                                }
                            }
                            let batch = try await client.pipeline([
                                ["GET", key], ["ECHO", "end-\(task)"], ["DEL", key],
                            ])
                            if batch != [
                                .bulkString(Array(String(callsPerTask).utf8)), .bulkString(Array("end-\(task)".utf8)),
                                .integer(1),
                            ] {
                                mismatches += 1
                            }
                            return mismatches
                        }
                    }
                    return try await group.reduce(0, +)
                }
            }
            #expect(mismatches == 0)
            print("\(tasks) tasks x \(callsPerTask * 2 + 1) calls over 8 connections took \(duration)")
        }
    }

    @Test func connectFailureIsFast() async throws {
        var configuration = RedisConfiguration()
        configuration.port = try unusedLocalPort()
        // A refused connection fails at once, not after the connect timeout (generous bounds:
        // the machine is shared and a timing assertion must not depend on its load).
        configuration.connectTimeout = .seconds(20)
        try await withClient(configuration) { client in
            for _ in 0..<3 {
                let (error, duration) = await elapsed { await redisError { try await client.send("PING") } }
                #expect(error?.kind == .connectionFailed, "\(String(describing: error))")
                #expect(error?.message.contains("\(configuration.port)") == true)
                #expect(duration < .seconds(10))
            }
        }
    }

    @Test func connectTimeoutBoundsAHangingConnect() async throws {
        let listener = try listenerWithFullBacklog()
        defer { listener.descriptors.forEach { _ = close($0) } }
        var configuration = RedisConfiguration()
        configuration.port = listener.port
        configuration.connectTimeout = .milliseconds(300)
        try await withClient(configuration) { client in
            let (error, duration) = await elapsed { await redisError { try await client.send("PING") } }
            #expect(error?.kind == .connectionFailed, "\(String(describing: error))")
            #expect(duration >= .milliseconds(250))
            // Without the timeout the connect would hang for good; the bound is loose because
            // the machine is shared and timing must not decide a test.
            #expect(duration < .seconds(20))
        }
    }

    @Test func authAndSelectOnConnect() async throws {
        let prefix = TestEnvironment.uniquePrefix("select")
        var configuration = try TestEnvironment.sharedConfiguration(poolSize: 1)
        configuration.database = 5
        try await withClient(configuration) { client in
            _ = try await client.send("SET", prefix + "db", "five")
            #expect(try await client.send("CLIENT", "INFO").string?.contains(" db=5 ") == true)
        }
        configuration.database = 0
        try await withClient(configuration) { client in
            #expect(try await client.send("GET", prefix + "db").isNull)
            _ = try await client.pipeline([["SELECT", "5"], ["DEL", prefix + "db"]])
        }
        // A password the server does not accept fails the connect with the server's reason.
        configuration.password = "wrong-password"
        try await withClient(configuration) { client in
            let error = await redisError { try await client.send("PING") }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.message.contains("AUTH") == true, "\(String(describing: error))")
        }
    }

    @Test func shutdownMakesLaterCallsThrow() async throws {
        let client = RedisClient(configuration: try TestEnvironment.sharedConfiguration())
        #expect(try await client.send("PING") == .status("PONG"))

        // Calls racing with shutdown either complete or throw .shutdown; none hangs.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    do {
                        #expect(try await client.send("ECHO", "racing-\(index)").string == "racing-\(index)")
                    } catch let error as RedisError {
                        #expect(error.kind == .shutdown)
                    } catch {
                        Issue.record("unexpected error \(error)")
                    }
                }
            }
            group.addTask { await client.shutdown() }
            try await group.waitForAll()
        }

        #expect(await redisError { try await client.send("PING") }?.kind == .shutdown)
        #expect(await redisError { try await client.pipeline([["PING"]]) }?.kind == .shutdown)
        #expect(
            await redisError { try await client.evalSHA(RedisScript("return 1"), keys: [], arguments: []) }?.kind
                == .shutdown
        )
        await client.shutdown()  // idempotent
        #expect(await redisError { try await client.send("PING") }?.kind == .shutdown)
    }

    @Test func cancellationNeverDesynchronizesTheConnection() async throws {
        let prefix = TestEnvironment.uniquePrefix("cancel")
        try await withClient(try TestEnvironment.sharedConfiguration(poolSize: 1)) { client in
            // In flight on the connection thread: BLPOP blocks the server side for 0.5 s.
            let inFlight = Task { try await client.send("BLPOP", prefix + "nothing", "0.5") }
            try await Task.sleep(for: .milliseconds(150))
            // Queued behind it on the single connection.
            let queued = Task { try await client.send("ECHO", "queued") }
            try await Task.sleep(for: .milliseconds(50))
            inFlight.cancel()
            queued.cancel()

            // The queued call is withdrawn, or — if the machine was slow and it had already joined
            // the in-flight batch — it completes with its own reply; never someone else's.
            do {
                #expect(try await queued.value.string == "queued")
            } catch is CancellationError {}
            // The in-flight call runs to the end (or never started, if it was slower than the cancel).
            do {
                #expect(try await inFlight.value == .null)
            } catch is CancellationError {}

            // The next reply belongs to the next command.
            #expect(try await client.send("ECHO", "after").string == "after")

            // A task cancelled before it starts does not send anything.
            let early = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.send("ECHO", "never")
            }
            await #expect(throws: CancellationError.self) { try await early.value }
            #expect(try await client.send("ECHO", "last").string == "last")
        }
    }
}
