import Foundation
import RedisBridge
import Testing

/// AUTH, SELECT and Unix sockets, on private servers configured for them.
@Suite("Connection setup", .timeLimit(.minutes(1)))
struct RedisConnectSetupTests {
    @Test func authenticatesWithPasswordAndACLUser() async throws {
        let server = try await RedisServerProcess(extraArguments: ["--requirepass", "sesame"])
        defer { server.stop() }

        var configuration = server.configuration
        configuration.password = "sesame"
        try await withClient(configuration) { (client) async throws in
            #expect(try await client.send("PING") == .status("PONG"))
            #expect(
                try await client.send("ACL", "SETUSER", "alice", "on", ">wonder%land", "~*", "+@all") == .status("OK")
            )
        }

        let url = "redis://alice:wonder%25land@127.0.0.1:\(server.port)/3"
        try await withClient(try RedisConfiguration(url: url)) { (client) async throws in
            #expect(try await client.send("ACL", "WHOAMI").string == "alice")
            let info = try await client.send("CLIENT", "INFO").string ?? ""
            #expect(info.contains(" db=3 "), "\(info)")
        }

        configuration.password = "wrong"
        try await withClient(configuration) { (client) async throws in
            let error = await redisError { try await client.send("PING") }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.message.contains("WRONGPASS") == true, "\(String(describing: error))")
        }

        configuration.password = nil
        try await withClient(configuration) { (client) async throws in
            let error = await redisError { try await client.send("PING") }
            #expect(error?.kind == .serverError)
            #expect(error?.message.hasPrefix("NOAUTH") == true, "\(String(describing: error))")
        }
    }

    @Test func connectsOverAUnixSocket() async throws {
        let path = NSTemporaryDirectory() + "tp-redisbridge-\(UUID().uuidString.prefix(8)).sock"
        let server = try await RedisServerProcess(extraArguments: ["--unixsocket", path, "--unixsocketperm", "700"])
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: path)
        }
        try await withClient(try RedisConfiguration(url: "unix://\(path)?db=2")) { (client) async throws in
            #expect(try await client.send("SET", "k", "over unix") == .status("OK"))
            let info = try await client.send("CLIENT", "INFO").string ?? ""
            #expect(info.contains(" db=2 "), "\(info)")
            #expect(
                info.contains("laddr=\(path)") || info.contains("addr=\(path)") || !info.contains("127.0.0.1"),
                "\(info)"
            )
        }
        var missing = RedisConfiguration()
        missing.unixSocketPath = path + ".missing"
        try await withClient(missing) { (client) async throws in
            let error = await redisError { try await client.send("PING") }
            #expect(error?.kind == .connectionFailed)
        }
    }

    @Test func droppingAClientWithoutShutdownStopsItsThreads() async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        do {
            let client = RedisClient(configuration: server.configuration)
            #expect(try await client.send("PING") == .status("PONG"))
        }
        try await Task.sleep(for: .milliseconds(100))
        try await withClient(server.configuration) { (client) async throws in
            #expect(try await client.send("PING") == .status("PONG"))
        }
    }
}
