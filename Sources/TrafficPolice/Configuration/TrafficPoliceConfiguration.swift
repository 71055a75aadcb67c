import Foundation
import Logging
import PostgresBridge
import RedisBridge

/// The daemon's and the CLI's configuration: `traffic-police.toml`, every key overridable by
/// its environment variable, every key with a default (so the file is optional).
///
/// Secrets are not configuration: platform tokens and webhook secrets are `Credentials`.
public struct TrafficPoliceConfiguration: Sendable {
    public var redis: RedisConfiguration
    public var postgres: PostgresConfiguration
    public var intake: Intake
    public var admin: Admin
    public var platforms: Platforms
    public var queue: Queue
    public var rebalancer: Rebalancer
    public var spool: Spool
    public var startup: Startup
    public var log: Log

    /// Every key this version understands, with its default (as the TOML text of its value).
    public static let defaults: [String: String] = [
        "redis.url": "redis://127.0.0.1:6379",
        "redis.pool_size": "4",
        "redis.connect_timeout_ms": "2000",
        "redis.command_timeout_ms": "2000",
        "postgres.url": "postgresql:///traffic_police",
        "postgres.pool_size": "4",
        "postgres.connect_timeout_ms": "5000",
        "intake.socket": "/run/traffic-police/webhook.sock",
        "intake.max_body_bytes": "1048576",
        "intake.max_header_bytes": "16384",
        "intake.idle_timeout_ms": "75000",
        "intake.read_timeout_ms": "10000",
        "intake.max_connections": "256",
        "admin.socket": "/run/traffic-police/admin.sock",
        "platforms.eventbrite.base_url": "https://www.eventbriteapi.com/v3",
        "platforms.eventbrite.calls_per_hour": "2000",
        "platforms.eventbrite.rate_margin_percent": "90",
        "platforms.eventbrite.catch_up_interval_ms": "60000",
        "platforms.luma.base_url": "https://public-api.luma.com",
        "platforms.luma.signature_scheme": "luma",
        "platforms.luma.requests_per_minute": "200",
        "platforms.luma.rate_margin_percent": "90",
        "platforms.luma.sweep_interval_ms": "300000",
        "platforms.meetup.base_url": "https://api.meetup.com/gql-ext",
        "platforms.meetup.points_per_minute": "500",
        "platforms.meetup.rate_margin_percent": "80",
        "platforms.meetup.idle_poll_interval_ms": "30000",
        "queue.workers": "4",
        "queue.max_attempts": "8",
        "rebalancer.interval_ms": "10000",
        "rebalancer.watch_interval_ms": "250",
        "rebalancer.trigger_percent": "80",
        "rebalancer.velocity_window_ms": "60000",
        "rebalancer.horizon_seconds": "300",
        "rebalancer.minimum_reserve": "5",
        "spool.dir": "",
        "startup.timeout_ms": "50000",
        "log.level": "info",
    ]

    /// Reads the file (explicit `path`, `TRAFFIC_POLICE_CONFIG`, or the default path if present) and the environment.
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> TrafficPoliceConfiguration
    {
        let source = try ConfigurationSource.load(
            path: path, environment: environment, knownKeys: Set(defaults.keys))
        return try TrafficPoliceConfiguration(source: source)
    }

    /// Validates every key; the first bad one is thrown as a `ConfigurationError` naming it.
    public init(source: ConfigurationSource) throws {
        let read = ConfigurationReader(source: source, defaults: Self.defaults)

        var redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(url: read.text("redis.url"))
        } catch {
            throw read.error("redis.url", "\(error)")
        }
        redis.poolSize = try read.integer("redis.pool_size", in: 1...256)
        redis.connectTimeout = try read.milliseconds("redis.connect_timeout_ms", in: 1...600_000)
        redis.commandTimeout = try read.milliseconds("redis.command_timeout_ms", in: 1...600_000)
        self.redis = redis

        let postgresURL = read.text("postgres.url")
        guard !postgresURL.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw read.error("postgres.url", "must not be empty")
        }
        self.postgres = PostgresConfiguration(
            connectionString: postgresURL,
            poolSize: try read.integer("postgres.pool_size", in: 1...256),
            connectTimeout: try read.milliseconds("postgres.connect_timeout_ms", in: 1...600_000))

        self.intake = Intake(
            socketPath: try read.socketPath("intake.socket"),
            maxBodyBytes: try read.integer("intake.max_body_bytes", in: 1024...(64 << 20)),
            maxHeaderBytes: try read.integer("intake.max_header_bytes", in: 1024...(1 << 20)),
            idleTimeout: try read.milliseconds("intake.idle_timeout_ms", in: 100...3_600_000),
            readTimeout: try read.milliseconds("intake.read_timeout_ms", in: 100...600_000),
            maxConnections: try read.integer("intake.max_connections", in: 1...65_536))
        self.admin = Admin(socketPath: try read.socketPath("admin.socket"))
        guard admin.socketPath != intake.socketPath else {
            throw read.error("admin.socket", "must differ from intake.socket: the proxy must never reach the admin API")
        }

        self.platforms = Platforms(
            eventbrite: Eventbrite(
                baseURL: try read.baseURL("platforms.eventbrite.base_url"),
                budget: try read.budget(.eventbrite, limit: "platforms.eventbrite.calls_per_hour"),
                catchUpInterval: try read.milliseconds("platforms.eventbrite.catch_up_interval_ms", in: 1_000...86_400_000)),
            luma: Luma(
                baseURL: try read.baseURL("platforms.luma.base_url"),
                signatureScheme: try read.choice(
                    "platforms.luma.signature_scheme", LumaSignatureScheme.allCases.map { ($0.rawValue, $0) }),
                budget: try read.budget(.luma, limit: "platforms.luma.requests_per_minute"),
                sweepInterval: try read.milliseconds("platforms.luma.sweep_interval_ms", in: 1_000...86_400_000)),
            meetup: Meetup(
                baseURL: try read.baseURL("platforms.meetup.base_url"),
                budget: try read.budget(.meetup, limit: "platforms.meetup.points_per_minute"),
                idlePollInterval: try read.milliseconds("platforms.meetup.idle_poll_interval_ms", in: 1_000...3_600_000)))

        self.queue = Queue(
            workers: try read.integer("queue.workers", in: 0...256),
            maxAttempts: try read.integer("queue.max_attempts", in: 1...1000))

        let interval = try read.integer("rebalancer.interval_ms", in: 0...86_400_000)
        guard interval == 0 || interval >= 1_000 else {
            throw read.error("rebalancer.interval_ms", "must be 0 (a static split) or at least 1000, got \(interval)")
        }
        self.rebalancer = Rebalancer(
            interval: interval == 0 ? nil : .milliseconds(interval),
            watchInterval: try read.milliseconds("rebalancer.watch_interval_ms", in: 50...60_000),
            triggerPercent: try read.integer("rebalancer.trigger_percent", in: 1...100),
            velocityWindow: try read.milliseconds("rebalancer.velocity_window_ms", in: 1_000...3_600_000),
            horizonSeconds: try read.integer("rebalancer.horizon_seconds", in: 1...86_400),
            minimumReserve: try read.integer("rebalancer.minimum_reserve", in: 0...1_000_000))

        let spoolDirectory = read.text("spool.dir").trimmingCharacters(in: .whitespaces)
        guard spoolDirectory.isEmpty || spoolDirectory.hasPrefix("/") else {
            throw read.error("spool.dir", "'\(spoolDirectory)' is not an absolute path (empty means $STATE_DIRECTORY)")
        }
        self.spool = Spool(
            directory: spoolDirectory.isEmpty
                ? Spool.defaultDirectory(environment: source.environment) : spoolDirectory)

        self.startup = Startup(timeout: try read.milliseconds("startup.timeout_ms", in: 1_000...3_600_000))

        let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
        self.log = Log(level: try read.choice("log.level", levels.map { ($0.rawValue, $0) }))
    }
}
