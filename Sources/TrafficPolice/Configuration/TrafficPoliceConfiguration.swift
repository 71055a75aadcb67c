import Foundation
import PostgresBridge
import RedisBridge

/// The daemon's and the CLI's configuration: `traffic-police.toml`, every key overridable by
/// its environment variable, every key with a default (so the file is optional).
public struct TrafficPoliceConfiguration: Sendable {
    public var redis: RedisConfiguration
    public var postgres: PostgresConfiguration

    /// Every key this version understands, with its default.
    public static let defaults: [String: String] = [
        "redis.url": "redis://127.0.0.1:6379",
        "redis.pool_size": "4",
        "redis.connect_timeout_ms": "2000",
        "redis.command_timeout_ms": "2000",
        "postgres.url": "postgresql:///traffic_police",
        "postgres.pool_size": "4",
        "postgres.connect_timeout_ms": "5000",
    ]

    /// Reads the file (explicit `path`, `TRAFFIC_POLICE_CONFIG`, or the default path if present) and the environment.
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> TrafficPoliceConfiguration
    {
        let source = try ConfigurationSource.load(
            path: path, environment: environment, knownKeys: Set(defaults.keys))
        return try TrafficPoliceConfiguration(source: source)
    }

    public init(source: ConfigurationSource) throws {
        func text(_ key: String) -> String { source.value(key) ?? Self.defaults[key] ?? "" }
        func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
            let raw = text(key)
            guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                throw ConfigurationError(
                    key: key,
                    reason: "'\(raw)' from \(source.origin(key)) is not a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }

        var redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(url: text("redis.url"))
        } catch {
            throw ConfigurationError(key: "redis.url", reason: "\(error) (from \(source.origin("redis.url")))")
        }
        redis.poolSize = try integer("redis.pool_size", in: 1...256)
        redis.connectTimeout = .milliseconds(try integer("redis.connect_timeout_ms", in: 1...600_000))
        redis.commandTimeout = .milliseconds(try integer("redis.command_timeout_ms", in: 1...600_000))
        self.redis = redis

        let postgresURL = text("postgres.url")
        guard !postgresURL.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigurationError(key: "postgres.url", reason: "must not be empty (from \(source.origin("postgres.url")))")
        }
        self.postgres = PostgresConfiguration(
            connectionString: postgresURL,
            poolSize: try integer("postgres.pool_size", in: 1...256),
            connectTimeout: .milliseconds(try integer("postgres.connect_timeout_ms", in: 1...600_000)))
    }
}
