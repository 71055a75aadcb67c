import Logging
import PostgresBridge
import RedisBridge
import ServiceLifecycle

/// The start-up sequence as a `Service`: once both sockets are bound and Redis and PostgreSQL
/// answer (with the ledger's schema in place), it signals readiness (READY=1), then idles until
/// shutdown. While a dependency is down it retries with backoff, logging one line per attempt,
/// and fails the daemon (exit) when `Configuration.deadline` passes, so systemd can restart it.
public struct StartupGate: Service {
    public struct Configuration: Sendable {
        /// How long to wait for Redis and PostgreSQL before giving up (`[startup] timeout_ms`). Default 50 s.
        public var deadline: Duration = .seconds(50)
        /// The first retry delay (it doubles, up to 5 s). Default 100 ms.
        public var firstRetry: Duration = .milliseconds(100)
        public init() {}
    }

    /// Why start-up failed: a dependency (`Redis`, `PostgreSQL`) did not answer, or answered without
    /// the ledger's schema. Either way the daemon cannot serve until someone fixes the outside
    /// world (`serve` exits 69), not because of a fault of its own.
    public struct StartupError: Error, CustomStringConvertible {
        /// The dependency at fault: "Redis" or "PostgreSQL".
        public var dependency: String
        public var description: String
    }

    private let configuration: Configuration
    private let listening: [ListeningSignal]
    private let redis: RedisClient
    private let postgres: PostgresClient
    private let readiness: ReadinessSignal
    private let logger: Logger

    public init(
        configuration: Configuration = .init(), listening: [ListeningSignal], redis: RedisClient,
        postgres: PostgresClient, readiness: ReadinessSignal, logger: Logger
    ) {
        self.configuration = configuration
        self.listening = listening
        self.redis = redis
        self.postgres = postgres
        self.readiness = readiness
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            for signal in listening { try await signal.wait() }
            try await waitForDependencies()
            readiness.signal()
            logger.info("ready: sockets bound, Redis and PostgreSQL answer")
        }
        // Stay up (a finished service would end the group) until shutdown.
        try? await gracefulShutdown()
    }

    private func waitForDependencies() async throws {
        let deadline = ContinuousClock.now + configuration.deadline
        var delay = configuration.firstRetry
        while true {
            var dependency = "Redis"
            do {
                _ = try await redis.send("PING")
                dependency = "PostgreSQL"
                let rows = try await postgres.query("SELECT to_regclass('public.events') IS NOT NULL AS migrated")
                guard let row = rows.first, try row.decode("migrated", as: Bool.self) else {
                    throw StartupError(
                        dependency: dependency, description: "the ledger has no schema: run `traffic-police migrate`")
                }
                return
            } catch let error as StartupError {
                throw error
            } catch {
                guard ContinuousClock.now + delay < deadline else {
                    throw StartupError(
                        dependency: dependency,
                        description: "\(dependency) unreachable: no answer within \(configuration.deadline) (\(error))")
                }
                logger.warning("waiting for \(dependency): \(error)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
