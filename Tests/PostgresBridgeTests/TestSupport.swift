import PostgresBridge
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shared helpers: the server URL from the environment, fresh databases, unique names, clocks.
enum TestPostgres {
    static let environmentVariable = "TRAFFIC_POLICE_POSTGRES_URL"

    /// The URL of the test server; fails the test (never skips) when the variable is unset.
    static func url() throws -> String {
        let value = getenv(environmentVariable).map { String(cString: $0) }
        return try #require(
            value.flatMap { $0.isEmpty ? nil : $0 },
            "\(environmentVariable) is not set: PostgresBridge tests need a real PostgreSQL (e.g. `source /var/tmp/tpdev/env.sh`)"
        )
    }

    /// A client on the test server's database.
    static func client(poolSize: Int = 4) throws -> PostgresClient {
        PostgresClient(configuration: PostgresConfiguration(connectionString: try url(), poolSize: poolSize))
    }

    /// A name unique to this run, e.g. "tp_test_3f9a0c1d2e4b5a60".
    static func uniqueName(_ prefix: String = "tp_test") -> String {
        var generator = SystemRandomNumberGenerator()
        let suffix = String(generator.next() as UInt64, radix: 16)
        return prefix + "_" + String(repeating: "0", count: 16 - suffix.count) + suffix
    }

    /// Creates a fresh database, runs `body` with its connection string, and drops it afterwards.
    static func withFreshDatabase<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let baseURL = try url()
        let name = uniqueName()
        let connectionString = try #require(
            replacingDatabase(in: baseURL, with: name),
            "cannot derive a database URL from \(environmentVariable)"
        )
        let admin = PostgresClient(configuration: PostgresConfiguration(connectionString: baseURL, poolSize: 1))
        try await admin.query("CREATE DATABASE \(name)")
        let result: Result<T, any Error>
        do {
            result = .success(try await body(connectionString))
        } catch {
            result = .failure(error)
        }
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.shutdown()
        return try result.get()
    }

    /// `url` pointing at database `name` (URI form: the path is replaced; key=value form: appended).
    static func replacingDatabase(in url: String, with name: String) -> String? {
        guard let schemeRange = url.firstRange(of: "://") else {
            return url + " dbname=\(name)"
        }
        let afterScheme = url[schemeRange.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
        let prefix = url[..<authorityEnd]
        let rest = url[authorityEnd...]
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        return prefix + "/" + name + query
    }

    /// `url` with an unreachable host (127.0.0.1:1) listed before the real one, plus
    /// `target_session_attrs=read-write`.
    static func multiHostURL(from url: String) -> String? {
        guard let schemeRange = url.firstRange(of: "://") else { return nil }
        let afterScheme = url[schemeRange.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        let hostStart = authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex
        let result = url[..<hostStart] + "127.0.0.1:1," + url[hostStart...]
        return result + (result.contains("?") ? "&" : "?") + "target_session_attrs=read-write"
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
    static func eventually(
        timeout: Duration = .seconds(5),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// Waits until the backend `pid` has gone from pg_stat_activity.
    static func waitForBackendToExit(_ pid: Int, using admin: PostgresClient) async throws -> Bool {
        try await eventually {
            try await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]).isEmpty
        }
    }
}

/// A one-shot signal between tasks.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = self.state.withLock { state in
            state.open = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = self.state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if isOpen { continuation.resume() }
        }
    }
}

/// A thread-safe log of values, for recording order across tasks.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { self.values.withLock { $0.append(value) } }
    var all: [Value] { self.values.withLock { $0 } }
}

extension TestPostgres {
    /// Runs `body` with a client on the test database and always shuts the client down.
    static func withClient<T>(
        poolSize: Int = 4,
        connectionString: String? = nil,
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        let configuration = PostgresConfiguration(connectionString: try connectionString ?? url(), poolSize: poolSize)
        let client = PostgresClient(configuration: configuration)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Creates a uniquely named table with `columns` (e.g. "(id int)"), runs `body` with its name,
    /// and drops it afterwards.
    static func withTable<T>(
        _ prefix: String,
        _ columns: String,
        on client: PostgresClient,
        _ body: (String) async throws -> T
    ) async throws -> T {
        let table = uniqueName(prefix)
        try await client.query("CREATE TABLE \(table) \(columns)")
        do {
            let result = try await body(table)
            try await client.query("DROP TABLE IF EXISTS \(table)")
            return result
        } catch {
            _ = try? await client.query("DROP TABLE IF EXISTS \(table)")
            throw error
        }
    }
}

extension TestPostgres {
    /// Runs `body` with the port of a local TCP listener that never accepts or answers, so a
    /// PostgreSQL client connecting to it can only give up through its connect timeout.
    static func withSilentListener<T>(_ body: (Int) async throws -> T) async throws -> T {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socketFD >= 0, "socket() failed")
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        try #require(bound == 0, "bind() failed")
        try #require(listen(socketFD, 16) == 0, "listen() failed")
        var boundAddress = sockaddr_in()
        var boundLength = length
        let named = withUnsafeMutablePointer(to: &boundAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &boundLength) }
        }
        try #require(named == 0, "getsockname() failed")
        return try await body(Int(UInt16(bigEndian: boundAddress.sin_port)))
    }
}
