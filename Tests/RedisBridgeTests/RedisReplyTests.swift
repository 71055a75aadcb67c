import RedisBridge
import Testing

@Suite("RedisReply accessors")
struct RedisReplyAccessorTests {
    @Test func accessors() {
        #expect(RedisReply.status("OK").string == "OK")
        #expect(RedisReply.bulkString(Array("héllo".utf8)).string == "héllo")
        #expect(RedisReply.integer(7).string == nil)
        #expect(RedisReply.error("ERR x").string == nil)
        #expect(RedisReply.integer(-3).integer == -3)
        #expect(RedisReply.bulkString(Array("42".utf8)).integer == 42)
        #expect(RedisReply.status("17").integer == 17)
        #expect(RedisReply.bulkString(Array("4x".utf8)).integer == nil)
        #expect(RedisReply.null.isNull)
        #expect(!RedisReply.array([]).isNull)
        #expect(RedisReply.array([.null, .integer(1)]).array == [.null, .integer(1)])
        #expect(RedisReply.status("x").array == nil)
    }
}

@Suite("Typed replies from a real Redis", .timeLimit(.minutes(1)))
struct RedisReplyTests {
    @Test func statusIntegerBulkAndNull() async throws {
        let prefix = TestEnvironment.uniquePrefix("replies")
        try await withClient(try TestEnvironment.sharedConfiguration()) { client in
            #expect(try await client.send("PING") == .status("PONG"))
            #expect(try await client.send("SET", prefix + "s", "héllo") == .status("OK"))
            let bulk = try await client.send("GET", prefix + "s")
            #expect(bulk == .bulkString(Array("héllo".utf8)))
            #expect(bulk.string == "héllo")
            #expect(try await client.send("INCRBY", prefix + "n", "41") == .integer(41))
            #expect(try await client.send(["INCR", prefix + "n"]).integer == 42)
            #expect(try await client.send("GET", prefix + "n").integer == 42)
            let missing = try await client.send("GET", prefix + "missing")
            #expect(missing == .null)
            #expect(missing.isNull)
            #expect(try await client.send("SET", prefix + "empty", "") == .status("OK"))
            #expect(try await client.send("GET", prefix + "empty") == .bulkString([]))
            _ = try await client.send("DEL", prefix + "s", prefix + "n", prefix + "empty")
        }
    }

    @Test func nestedArrays() async throws {
        let prefix = TestEnvironment.uniquePrefix("arrays")
        try await withClient(try TestEnvironment.sharedConfiguration()) { client in
            let reply = try await client.send("EVAL", "return {1, {2, 'x', {}}, 'y'}", "0")
            #expect(
                reply
                    == .array([
                        .integer(1), .array([.integer(2), .bulkString(Array("x".utf8)), .array([])]),
                        .bulkString(Array("y".utf8)),
                    ])
            )
            _ = try await client.send("RPUSH", prefix + "list", "a", "b", "c")
            let range = try await client.send("LRANGE", prefix + "list", "0", "-1")
            #expect(range.array?.compactMap(\.string) == ["a", "b", "c"])
            let multi = try await client.send("MGET", prefix + "list-missing", prefix + "nope")
            #expect(multi == .array([.null, .null]))
            _ = try await client.send("DEL", prefix + "list")
        }
    }

    @Test func errorRepliesThrowServerError() async throws {
        let prefix = TestEnvironment.uniquePrefix("errors")
        try await withClient(try TestEnvironment.sharedConfiguration()) { client in
            let unknown = await redisError { try await client.send("NOSUCHCOMMAND", "x") }
            #expect(unknown?.kind == .serverError)
            #expect(unknown?.message.hasPrefix("ERR unknown command") == true, "\(String(describing: unknown))")

            _ = try await client.send("SET", prefix + "text", "abc")
            let notInteger = await redisError { try await client.send("INCR", prefix + "text") }
            #expect(notInteger?.kind == .serverError)
            #expect(notInteger?.message == "ERR value is not an integer or out of range")

            let wrongType = await redisError { try await client.send("LPUSH", prefix + "text", "x") }
            #expect(wrongType?.message.hasPrefix("WRONGTYPE") == true)

            let empty = await redisError { try await client.send([]) }
            #expect(empty?.kind == .protocolError)

            // The connection is still in sync after the errors.
            #expect(try await client.send("ECHO", "still fine").string == "still fine")
            _ = try await client.send("DEL", prefix + "text")
        }
    }
}
