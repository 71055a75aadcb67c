import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `redis-server` of the test's own on a free loopback port, so it can be frozen, killed and
/// restarted on the same port (empty without persistence, from its append-only file with it).
final class PrivateRedis: @unchecked Sendable {
    let port: Int
    let appendOnly: Bool
    let directory: String
    private let process: Process

    private init(port: Int, appendOnly: Bool, directory: String, process: Process) {
        self.port = port
        self.appendOnly = appendOnly
        self.directory = directory
        self.process = process
    }

    /// Starts one on a random free port (or `port`), with the append-only file on or persistence off.
    static func start(port fixed: Int? = nil, appendOnly: Bool = false, directory: String? = nil) async throws -> PrivateRedis {
        let directory = directory ?? NSTemporaryDirectory() + "tp-redis-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for _ in 0..<(fixed == nil ? 5 : 50) {
            let port = fixed ?? Int.random(in: 30_000...60_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            process.arguments = [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", directory,
                "--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "everysec",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let redis = PrivateRedis(port: port, appendOnly: appendOnly, directory: directory, process: process)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, process.isRunning {
                if try await redis.answers() { return redis }
                try await Task.sleep(for: .milliseconds(20))
            }
            redis.stop()
            // A fixed port may still be held by the process just killed: try again shortly.
            if fixed != nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        throw UnixHTTPClient.Failure(description: "redis-server did not start")
    }

    /// kill -9, then a new server on the same port and directory.
    func restart() async throws -> PrivateRedis {
        stop()
        return try await Self.start(port: port, appendOnly: appendOnly, directory: directory)
    }

    /// A PING through redis-cli (waited for without blocking a thread of the cooperative pool).
    private func answers() async throws -> Bool {
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        cli.arguments = ["-p", String(port), "ping"]
        let pipe = Pipe()
        cli.standardOutput = pipe
        cli.standardError = FileHandle.nullDevice
        guard (try? cli.run()) != nil else { return false }
        while cli.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("PONG")
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Stops it and removes its directory.
    func cleanUp() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// SIGCONT then SIGKILL, and wait for the exit.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGCONT)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A database and a Redis of the test's own, and the environment that points the CLI and the daemon
/// at both: a queue shared with other tests' daemons would hand them this test's jobs, and events
/// left in a shared database would be polled and swept too.
struct PrivateStores {
    let database: TestDatabase
    let redis: PrivateRedis

    var environment: [String: String] {
        ["TRAFFIC_POLICE_POSTGRES_URL": database.url, "TRAFFIC_POLICE_REDIS_URL": "redis://127.0.0.1:\(redis.port)"]
    }

    static func start() async throws -> PrivateStores {
        let database = try await TestDatabase.create()
        do {
            return PrivateStores(database: database, redis: try await PrivateRedis.start())
        } catch {
            await database.drop()
            throw error
        }
    }

    /// Stops the Redis and drops the database (in the background).
    func cleanUp() {
        redis.cleanUp()
        Task { [database] in await database.drop() }
    }
}
