import Synchronization
import Foundation
import PostgresBridge
import RedisBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The real Redis and PostgreSQL that `scripts/test` starts, from TRAFFIC_POLICE_REDIS_URL and
/// TRAFFIC_POLICE_POSTGRES_URL. A test that needs them fails (never skips) when they are not set.
enum TestServers {
    static func redisURL() throws -> String {
        try #require(
            ProcessInfo.processInfo.environment["TRAFFIC_POLICE_REDIS_URL"],
            "TRAFFIC_POLICE_REDIS_URL is not set: run the suite with scripts/test")
    }

    static func postgresURL() throws -> String {
        try #require(
            ProcessInfo.processInfo.environment["TRAFFIC_POLICE_POSTGRES_URL"],
            "TRAFFIC_POLICE_POSTGRES_URL is not set: run the suite with scripts/test")
    }

    static func redis(poolSize: Int = 4) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: try redisURL())
        configuration.poolSize = poolSize
        configuration.commandTimeout = .seconds(10)
        return RedisClient(configuration: configuration)
    }

    static func postgres(poolSize: Int = 4) throws -> PostgresClient {
        PostgresClient(configuration: PostgresConfiguration(connectionString: try postgresURL(), poolSize: poolSize))
    }

    /// Runs `body` with a Redis client that is shut down afterwards, whatever happens.
    static func withRedis<T>(poolSize: Int = 1, _ body: (RedisClient) async throws -> T) async throws -> T {
        let redis = try redis(poolSize: poolSize)
        do {
            let result = try await body(redis)
            await redis.shutdown()
            return result
        } catch {
            await redis.shutdown()
            throw error
        }
    }

    /// A ledger with its schema applied (migrations are idempotent and serialised).
    static func ledger(_ postgres: PostgresClient) async throws -> Ledger {
        let ledger = Ledger(postgres: postgres)
        try await ledger.migrate()
        return ledger
    }

    /// A fresh event id no other test uses.
    static func eventID(_ prefix: String = "t") throws -> EventID {
        try EventID("\(prefix)-\(UUID().uuidString.lowercased())")
    }
}

/// Clients opened for one test and closed at its end.
struct TestStack {
    let redis: RedisClient
    let postgres: PostgresClient
    let ledger: Ledger
    var reservations: RedisReservations { RedisReservations(redis: redis) }
    var desk: EventDesk { EventDesk(ledger: ledger, reservations: reservations) }

    static func open(redisPool: Int = 4, postgresPool: Int = 4) async throws -> TestStack {
        let redis = try TestServers.redis(poolSize: redisPool)
        let postgres = try TestServers.postgres(poolSize: postgresPool)
        return TestStack(redis: redis, postgres: postgres, ledger: try await TestServers.ledger(postgres))
    }

    func close() async {
        await redis.shutdown()
        await postgres.shutdown()
    }

    /// Opens a stack, runs `body`, and closes the stack whatever happens.
    static func with<T>(redisPool: Int = 4, postgresPool: Int = 4, _ body: (TestStack) async throws -> T)
        async throws -> T
    {
        let stack = try await open(redisPool: redisPool, postgresPool: postgresPool)
        do {
            let result = try await body(stack)
            await stack.close()
            return result
        } catch {
            await stack.close()
            throw error
        }
    }
}

/// Tests replay their random histories from seeds.
typealias SeededGenerator = SplitMix64
