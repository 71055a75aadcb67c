import Foundation
import RedisBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The marker against a private `redis-server` and the ledger's memory of it (migration 6): a daemon
/// that starts after Redis lost its data, while none ran, notices it from the stamp the ledger kept.
@Suite(.timeLimit(.minutes(1))) struct RedisMarkerTests {
    /// A marker on `redis` remembered in the shared ledger under a name of this test's own.
    static func marker(_ redis: RedisClient, _ stack: TestStack, name: String) -> RedisMarker {
        RedisMarker(redis: redis, memory: .ledger(stack.ledger, redis: name))
    }

    @Test func aRedisRestartedEmptyWhileNoDaemonRanIsNoticedAtTheNextStart() async throws {
        let child = try await QueueRedisChild()
        defer { child.stop() }
        let name = "test-\(UUID().uuidString.prefix(8)):\(child.port)/0"
        try await TestStack.with { stack in
            // The first daemon: nothing remembered, so nothing judged lost; it adopts and stores.
            let first = RedisClient(configuration: child.configuration)
            let before = Self.marker(first, stack, name: name)
            #expect(try await before.recall() == .intact)
            let adopted = try await before.adopt()
            try await before.persist()
            #expect(try await stack.ledger.redisMarker(for: name) == adopted)
            await first.shutdown()

            // A daemon started again on the same Redis finds it intact.
            let again = RedisClient(configuration: child.configuration)
            #expect(try await Self.marker(again, stack, name: name).recall() == .intact)
            await again.shutdown()

            // Redis restarts empty (no persistence) while no daemon runs.
            try await child.start()
            let next = RedisClient(configuration: child.configuration)
            defer { Task { await next.shutdown() } }
            let after = Self.marker(next, stack, name: name)
            guard case .lost(let why) = try await after.recall() else {
                Issue.record("a Redis restarted empty is judged intact")
                return
            }
            #expect(why.contains("gone"), "\(why)")
            // Until the recovery adopts a new marker, every check says lost.
            #expect(after.current == adopted)
            guard case .lost = try await after.check() else {
                Issue.record("check() forgot the loss")
                return
            }
            let renewed = try await after.adopt()
            try await after.persist()
            #expect(renewed.marker != adopted.marker)
            #expect(try await after.check() == .intact)
            #expect(try await stack.ledger.redisMarker(for: name) == renewed)
        }
    }

    /// Without the ledger's memory (or with nothing stored) the start judges nothing lost, as before.
    @Test func withoutAMemoryNothingIsJudgedLostAtStart() async throws {
        let child = try await QueueRedisChild()
        defer { child.stop() }
        let redis = RedisClient(configuration: child.configuration)
        defer { Task { await redis.shutdown() } }
        let marker = RedisMarker(redis: redis)
        #expect(try await marker.recall() == .intact)
        try await marker.adopt()
        try await marker.persist()  // no memory: nothing to store, no error
        #expect(try await marker.check() == .intact)
    }

    /// A memory that cannot be read is reported as such (the daemon warns and carries on).
    @Test func anUnreadableMemoryThrowsMemoryError() async throws {
        let child = try await QueueRedisChild()
        defer { child.stop() }
        let redis = RedisClient(configuration: child.configuration)
        defer { Task { await redis.shutdown() } }
        struct Down: Error {}
        let marker = RedisMarker(redis: redis, memory: .init(load: { throw Down() }, store: { _ in throw Down() }))
        await #expect(throws: RedisMarker.MemoryError.self) { try await marker.recall() }
        try await marker.adopt()
        await #expect(throws: RedisMarker.MemoryError.self) { try await marker.persist() }
    }

    @Test func identityNamesServerAndDatabase() {
        var configuration = RedisConfiguration()
        configuration.host = "10.0.0.5"
        configuration.port = 6380
        configuration.database = 2
        #expect(RedisMarker.identity(of: configuration) == "10.0.0.5:6380/2")
        configuration.unixSocketPath = "/run/redis/redis.sock"
        #expect(RedisMarker.identity(of: configuration) == "unix:/run/redis/redis.sock/2")
    }
}
