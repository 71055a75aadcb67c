import Foundation
import RedisBridge

#if canImport(Glibc)
import Glibc
#endif

/// A test setup problem, reported with a message that says how to fix it.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

enum TestEnvironment {
    static let redisURLVariable = "TRAFFIC_POLICE_REDIS_URL"

    /// The shared test Redis. Fails (never skips) when the variable is unset.
    static func redisURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment[redisURLVariable], !url.isEmpty else {
            throw TestSetupError(
                description: "\(redisURLVariable) is not set: the RedisBridge tests need a running Redis 7 "
                    + "(e.g. `source /var/tmp/tpdev/env.sh`, which sets \(redisURLVariable)=redis://127.0.0.1:16379)"
            )
        }
        return url
    }

    /// A configuration for the shared test Redis.
    static func sharedConfiguration(poolSize: Int = 4) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: redisURL())
        configuration.poolSize = poolSize
        return configuration
    }

    /// A unique key prefix so tests never collide with each other or with other users of the server.
    static func uniquePrefix(_ name: String) -> String {
        "tp-redisbridge-test:\(name):\(UUID().uuidString):"
    }
}

/// Runs `body` with a client and always shuts it down afterwards.
func withClient<T>(
    _ configuration: RedisConfiguration,
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let client = RedisClient(configuration: configuration)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Measures how long `body` takes.
func elapsed<T>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
    let start = ContinuousClock.now
    let result = try await body()
    return (result, ContinuousClock.now - start)
}

/// The error `body` throws as a `RedisError`, or `nil` if it succeeds or throws something else.
func redisError(_ body: () async throws -> some Any) async -> RedisError? {
    do {
        _ = try await body()
        return nil
    } catch let error as RedisError {
        return error
    } catch {
        return nil
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
func unusedLocalPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else {
        throw TestSetupError(description: "socket() failed: errno \(errno)")
    }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0 else {
        throw TestSetupError(description: "bind() failed: errno \(errno)")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            getsockname(descriptor, $0, &length)
        }
    }
    guard named == 0 else {
        throw TestSetupError(description: "getsockname() failed: errno \(errno)")
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func acceptsConnections(port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else {
        return false
    }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    return result == 0
}

/// A private `redis-server` child process, for tests that stop, pause or flush a server.
final class RedisServerProcess: @unchecked Sendable {
    let port: Int
    let extraArguments: [String]
    private var process: Process?

    /// Starts `redis-server` on `port` (a free one by default) and waits until it accepts connections.
    init(port: Int? = nil, extraArguments: [String] = []) async throws {
        self.port = try port ?? unusedLocalPort()
        self.extraArguments = extraArguments
        try await self.start()
    }

    deinit {
        self.stop()
    }

    var configuration: RedisConfiguration {
        var configuration = RedisConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = self.port
        return configuration
    }

    private static func executablePath() throws -> String {
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestSetupError(description: "redis-server not found (install the Debian package redis-server)")
    }

    /// (Re)starts the server on the same port.
    func start() async throws {
        self.stop()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.executablePath())
        process.arguments =
            [
                "--port", String(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", NSTemporaryDirectory(),
            ] + self.extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(10)
        while !acceptsConnections(port: self.port) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                self.stop()
                throw TestSetupError(description: "redis-server on port \(self.port) did not start within 10 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Kills the server (SIGKILL) and waits for it to exit.
    func stop() {
        guard let process = self.process else {
            return
        }
        self.process = nil
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// SIGSTOP: the server keeps its sockets open but answers nothing.
    func pause() {
        if let process = self.process {
            kill(process.processIdentifier, SIGSTOP)
        }
    }

    /// SIGCONT after ``pause()``.
    func resume() {
        if let process = self.process {
            kill(process.processIdentifier, SIGCONT)
        }
    }
}

/// A listening socket whose accept queue is full, so further connects get no SYN-ACK and hang
/// until the client's connect timeout. Close the returned descriptors when done.
func listenerWithFullBacklog() throws -> (port: Int, descriptors: [Int32]) {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard listener >= 0 else {
        throw TestSetupError(description: "socket() failed: errno \(errno)")
    }
    var descriptors = [listener]
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ready = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(listener, $0, length) == 0 && listen(listener, 0) == 0 && getsockname(listener, $0, &length) == 0
        }
    }
    guard ready else {
        descriptors.forEach { _ = close($0) }
        throw TestSetupError(description: "could not set up a listener: errno \(errno)")
    }
    let port = Int(UInt16(bigEndian: address.sin_port))
    // Fill the accept queue (backlog 0 admits one connection on Linux; add a spare).
    for _ in 0..<2 {
        let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard filler >= 0 else { continue }
        descriptors.append(filler)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
    usleep(100_000)
    return (port, descriptors)
}
