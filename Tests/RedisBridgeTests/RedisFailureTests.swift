import RedisBridge
import Testing

/// Tests that pause, kill and restart a private `redis-server`.
@Suite("Timeouts and reconnects", .timeLimit(.minutes(1)))
struct RedisFailureTests {
    @Test func commandTimeoutDiscardsTheConnection() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        var configuration = server.configuration
        configuration.poolSize = 1
        configuration.commandTimeout = .milliseconds(500)
        try await withClient(configuration) { client in
            #expect(try await client.send("ECHO", "warm").string == "warm")

            server.pause()
            let (error, duration) = await elapsed { await redisError { try await client.send("ECHO", "before") } }
            server.resume()
            #expect(error?.kind == .timeout, "\(String(describing: error))")
            #expect(duration >= .milliseconds(400))
            #expect(duration < .seconds(20))  // bounded, not timed: the machine is shared

            // A fresh connection: the late reply to "before" is never read as the reply to "after".
            #expect(try await client.send("ECHO", "after").string == "after")
            #expect(try await client.send("ECHO", "later").string == "later")
            let clients = try await client.send("INFO", "clients").string ?? ""
            #expect(clients.contains("connected_clients:1"), "\(clients)")
        }
    }

    @Test func timeoutFailsEveryPipelinedCallerAndRecovers() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        var configuration = server.configuration
        configuration.poolSize = 2
        configuration.commandTimeout = .milliseconds(300)
        try await withClient(configuration) { client in
            #expect(try await client.send("PING") == .status("PONG"))
            server.pause()
            let (errors, duration) = try await elapsed {
                try await withThrowingTaskGroup(of: RedisError?.self) { group in
                    for index in 0..<20 {
                        group.addTask { await redisError { try await client.send("ECHO", "\(index)") } }
                    }
                    return try await group.reduce(into: [RedisError?]()) { $0.append($1) }
                }
            }
            server.resume()
            #expect(errors.allSatisfy { $0?.kind == .timeout })
            #expect(duration < .seconds(20))  // bounded, not timed: the machine is shared
            for index in 0..<20 {
                #expect(try await client.send("ECHO", "again-\(index)").string == "again-\(index)")
            }
        }
    }

    @Test func reconnectsAfterServerRestart() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        var configuration = server.configuration
        configuration.poolSize = 2
        try await withClient(configuration) { client in
            // Open both pooled connections.
            let warm = try await withThrowingTaskGroup(of: RedisReply.self) { group in
                for index in 0..<20 {
                    group.addTask { try await client.send("ECHO", "warm-\(index)") }
                }
                return try await group.reduce(into: 0) { count, _ in count += 1 }
            }
            #expect(warm == 20)

            server.stop()
            let (error, duration) = await elapsed { await redisError { try await client.send("PING") } }
            #expect(
                error?.kind == .connectionFailed || error?.kind == .connectionClosed,
                "\(String(describing: error))"
            )
            #expect(duration < .seconds(20))  // bounded, not timed: the machine is shared

            try await server.start()
            // Stale pooled connections are noticed before use, so the first calls already succeed.
            for round in 0..<10 {
                let replies = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<4 {
                        group.addTask {
                            try await client.send("ECHO", "r\(round)-\(index)").string == "r\(round)-\(index)"
                        }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(replies == [true, true, true, true])
            }
            #expect(try await client.send("DBSIZE") == .integer(0))
        }
    }
}
