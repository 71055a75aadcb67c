import RedisBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The per-event rebalance lock on a real Redis: one holder at a time, only the holder renews or
/// releases, and an expired lease frees the lock for another.
@Suite struct EventLockTests {
    /// Runs `body` with two locks on two clients of their own (two rebalancer processes).
    static func withTwoLocks(_ body: (EventLock, EventLock) async throws -> Void) async throws {
        try await TestServers.withRedis(poolSize: 2) { first in
            try await TestServers.withRedis(poolSize: 2) { second in
                try await body(EventLock(redis: first), EventLock(redis: second))
            }
        }
    }

    @Test func twoRacingClientsNeverBothHoldTheLock() async throws {
        try await Self.withTwoLocks { one, two in
            let event = try TestServers.eventID("lock-race")
            for round in 0..<20 {
                async let first = one.acquire(event, ttl: .seconds(30))
                async let second = two.acquire(event, ttl: .seconds(30))
                let leases = [try await first, try await second].compactMap { $0 }
                #expect(leases.count == 1, "round \(round)")
                let winner = try #require(leases.first)
                // Nobody else takes it while it is held, and its holder frees it.
                #expect(try await one.acquire(event, ttl: .seconds(30)) == nil)
                #expect(try await (round % 2 == 0 ? one : two).release(winner))
            }
        }
    }

    @Test func aStaleTokenNeitherRenewsNorReleases() async throws {
        try await Self.withTwoLocks { one, two in
            let event = try TestServers.eventID("lock-stale")
            let lease = try #require(try await one.acquire(event, ttl: .seconds(30)))
            #expect(lease.token.count == 32 && lease.token.allSatisfy(\.isHexDigit))
            let stale = EventLock.Lease(event: event, token: String(lease.token.reversed()), ttl: .seconds(30))
            #expect(!(try await two.renew(stale)))
            #expect(!(try await two.release(stale)))
            #expect(try await two.acquire(event, ttl: .seconds(30)) == nil)
            #expect(try await two.renew(lease))
            #expect(try await two.release(lease))
            #expect(!(try await one.release(lease)))
            #expect(!(try await one.renew(lease)))
            let next = try #require(try await two.acquire(event, ttl: .seconds(30)))
            #expect(next.token != lease.token)
            #expect(try await two.release(next))
        }
    }

    @Test func anExpiredLeaseLetsAnotherTakeTheLock() async throws {
        try await Self.withTwoLocks { one, two in
            let event = try TestServers.eventID("lock-ttl")
            let lease = try #require(try await one.acquire(event, ttl: .milliseconds(200)))
            try await Task.sleep(for: .milliseconds(400))
            let taken = try #require(try await two.acquire(event, ttl: .seconds(30)))
            // The first holder's lease is gone: it can neither extend nor free the new one.
            #expect(!(try await one.renew(lease)))
            #expect(!(try await one.release(lease)))
            #expect(try await one.acquire(event, ttl: .seconds(30)) == nil)
            #expect(try await two.release(taken))
        }
    }

    @Test func aRenewalExtendsTheLeaseByItsTTL() async throws {
        try await Self.withTwoLocks { one, two in
            let event = try TestServers.eventID("lock-renew")
            let lease = try #require(try await one.acquire(event, ttl: .seconds(20)))
            let key = EventKeys(event).rebalanceLock
            #expect(try #require(try await one.redis.send(["PTTL", key]).integer) <= 20_000)
            // The same holder renewing for longer: the key now lives that long from now.
            let longer = EventLock.Lease(event: event, token: lease.token, ttl: .seconds(60))
            #expect(try await two.renew(longer))
            #expect(try #require(try await one.redis.send(["PTTL", key]).integer) > 20_000)
            #expect(try await two.acquire(event, ttl: .seconds(30)) == nil)
            #expect(try await one.release(lease))
            await #expect(throws: DomainError.self) { try await one.acquire(event, ttl: .zero) }
        }
    }
}
