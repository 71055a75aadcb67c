import Foundation
import RedisBridge
import Synchronization
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The throttler against the real Redis: two instances sharing a bucket, lanes, pauses, the local fallback.
/// Assertions count admissions within windows of recorded timestamps, with slack; none asserts a speed.
@Suite struct ThrottlerTests {
    static func account() -> String { "t-" + UUID().uuidString.lowercased() }

    /// Admission times (seconds since the test's start) recorded by concurrent tasks.
    final class Admissions: Sendable {
        private let times = Mutex<[Double]>([])
        private let start = ContinuousClock.now

        /// Records our clock's time, or `redisMicros` (Redis's time of the decision) when given.
        func record(redisMicros: Int64? = nil) {
            let t = redisMicros.map { Double($0) / 1e6 } ?? Self.seconds(start.duration(to: .now))
            times.withLock { $0.append(t) }
        }
        var all: [Double] { times.withLock { $0.sorted() } }

        /// The most admissions recorded in any closed window of `length` seconds.
        func maxInWindow(_ length: Double) -> Int {
            let sorted = all
            var best = 0
            for (index, first) in sorted.enumerated() {
                best = max(best, sorted[index...].prefix { $0 <= first + length }.count)
            }
            return best
        }

        static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
    }

    /// The order in which lanes were admitted.
    final class LaneLog: Sendable {
        private let log = Mutex<[Lane]>([])
        func append(_ lane: Lane) { log.withLock { $0.append(lane) } }
        var lanes: [Lane] { log.withLock { $0 } }
    }

    /// Runs `tasks` loops per throttler, each acquiring until `seconds` have passed.
    static func hammer(_ throttlers: [Throttler], _ platform: Platform, account: String, tasks: Int, seconds: Int)
        async throws -> Admissions
    {
        let admissions = Admissions()
        let end = ContinuousClock.now.advanced(by: .seconds(seconds))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for throttler in throttlers {
                for _ in 0..<tasks {
                    group.addTask {
                        while ContinuousClock.now < end {
                            let admission = try await throttler.acquire(
                                platform: platform, lane: .orderLookup, account: account)
                            admissions.record(redisMicros: admission.redisTimeMicros)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return admissions
    }

    @Test func twoInstancesShareOneBudget() async throws {
        // 16 per 2 s steady (80% of 20) + a burst of 4: at most 20 in any 2 s window.
        let budget = try Budget(limit: 20, periodMicros: 2_000_000, marginPercent: 80, burst: 4, failsafeReserve: 0)
        let account = Self.account()
        try await TestServers.withRedis { first in
            try await TestServers.withRedis { second in
                let a = try Throttler(redis: first, budgets: [.luma: budget], maxWait: .seconds(10))
                let b = try Throttler(redis: second, budgets: [.luma: budget], maxWait: .seconds(10))
                let admissions = try await Self.hammer([a, b], .luma, account: account, tasks: 3, seconds: 4)
                let times = admissions.all
                // Times are Redis's own decision times, so the bound is exact.
                #expect(admissions.maxInWindow(2.0) <= 20, "\(times)")
                // The whole run: the burst plus the steady rate over its length (8/s), plus slack.
                let span = (times.last ?? 0) - (times.first ?? 0)
                #expect(Double(times.count) <= 4 + 8 * span + 1, "\(times.count) in \(span) s")
                #expect(times.count >= 5, "the shared bucket admitted too little to mean anything")
                let fallbackA = await a.fallbackAdmissions
                let fallbackB = await b.fallbackAdmissions
                #expect(fallbackA == 0 && fallbackB == 0)
            }
        }
    }

    @Test func failsafePassesWhileReconciliationWaits() async throws {
        // 10 per minute (one per 6 s), burst 10 of which 6 only for fail-safe: lower lanes may spend 4 at
        // once. Seconds-long intervals keep the test immune to a stalled shared Redis.
        let budget = try Budget(limit: 20, periodMicros: 600_000_000, marginPercent: 50, burst: 10, failsafeReserve: 6)
        let account = Self.account()
        try await TestServers.withRedis(poolSize: 2) { redis in
            let patient = try Throttler(redis: redis, budgets: [.meetup: budget], maxWait: .seconds(60))
            let hasty = try Throttler(redis: redis, budgets: [.meetup: budget], maxWait: .zero)
            try await patient.acquire(platform: .meetup, lane: .reconciliation, cost: 4, account: account)
            await #expect(throws: ThrottleError.self) {
                try await hasty.acquire(platform: .meetup, lane: .reconciliation, account: account)
            }
            let order = LaneLog()
            let waiting = Task {
                try await patient.acquire(platform: .meetup, lane: .reconciliation, account: account)
                order.append(.reconciliation)
            }
            try await Task.sleep(for: .milliseconds(50))
            // Closing 5 listings at once: no wait (maxWait zero) although reconciliation is waiting.
            try await hasty.acquire(platform: .meetup, lane: .failsafe, cost: 5, account: account)
            order.append(.failsafe)
            waiting.cancel()
            _ = try? await waiting.value
            #expect(order.lanes == [.failsafe])
            await #expect(throws: ThrottleError.self) {
                try await hasty.acquire(platform: .meetup, lane: .orderLookup, cost: 5, account: account)
            }
        }
    }

    @Test func aWaitingAcquireIsCancellable() async throws {
        let budget = try Budget(limit: 4, periodMicros: 60_000_000, marginPercent: 50, burst: 1, failsafeReserve: 0)
        let account = Self.account()
        try await TestServers.withRedis { redis in
            let throttler = try Throttler(redis: redis, budgets: [.luma: budget], maxWait: .seconds(60))
            try await throttler.acquire(platform: .luma, lane: .orderLookup, account: account)
            let waiting = Task { try await throttler.acquire(platform: .luma, lane: .orderLookup, account: account) }
            try await Task.sleep(for: .milliseconds(50))
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            await #expect(throws: ThrottleError.self) {
                try await throttler.acquire(platform: .luma, lane: .orderLookup, cost: 2, account: account)
            }
        }
    }

    @Test func aHigherLaneWaitingHereGoesBeforeALowerOne() async throws {
        // A burst of one call, then one per 2 s. A pause holds both waiters until both are queued.
        let budget = try Budget(limit: 60, periodMicros: 60_000_000, marginPercent: 50, burst: 1, failsafeReserve: 0)
        let account = Self.account()
        try await TestServers.withRedis(poolSize: 2) { redis in
            let throttler = try Throttler(redis: redis, budgets: [.luma: budget], maxWait: .seconds(20))
            let paused = ContinuousClock.now
            try await throttler.pause(platform: .luma, for: .seconds(3), account: account)
            let order = LaneLog()
            let lower = Task {
                try await throttler.acquire(platform: .luma, lane: .reconciliation, account: account)
                order.append(.reconciliation)
            }
            let higher = Task {
                while try await throttler.waiting(platform: .luma, account: account)[.reconciliation] == nil {
                    try await Task.sleep(for: .milliseconds(5))
                }
                try await throttler.acquire(platform: .luma, lane: .orderLookup, account: account)
                order.append(.orderLookup)
            }
            while try await throttler.waiting(platform: .luma, account: account).count < 2,
                paused.duration(to: .now) < .seconds(10)
            {
                try await Task.sleep(for: .milliseconds(5))
            }
            let bothQueuedInTime = paused.duration(to: .now) < .milliseconds(2_800)
            try await higher.value
            lower.cancel()
            _ = try? await lower.value
            // On a machine too loaded to queue both within the pause, the order proves nothing.
            if bothQueuedInTime { #expect(order.lanes.first == .orderLookup) }
        }
    }

    /// Capacity pushes queued in numbers do not starve an order look-up: it goes within the first
    /// four admissions (after three pushes at most), not after every push.
    @Test func anOrderLookupIsNotStarvedByCapacityPushes() async throws {
        // 5 calls a second, a burst of one; a pause holds every waiter until all are queued.
        let budget = try Budget(limit: 600, periodMicros: 60_000_000, marginPercent: 50, burst: 1, failsafeReserve: 0)
        let account = Self.account()
        try await TestServers.withRedis(poolSize: 2) { redis in
            let throttler = try Throttler(redis: redis, budgets: [.luma: budget], maxWait: .seconds(30))
            let paused = ContinuousClock.now
            // Long enough for every task to queue on a machine loaded by the whole suite (5.5 s seen).
            try await throttler.pause(platform: .luma, for: .seconds(10), account: account)
            let order = LaneLog()
            let lanes = Array(repeating: Lane.capacityPush, count: 8) + [.orderLookup]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in lanes {
                    group.addTask {
                        try await throttler.acquire(platform: .luma, lane: lane, account: account)
                        order.append(lane)
                    }
                }
                while try await throttler.waiting(platform: .luma, account: account).values.reduce(0, +) < lanes.count,
                    paused.duration(to: .now) < .seconds(20)
                {
                    try await Task.sleep(for: .milliseconds(5))
                }
                try #require(paused.duration(to: .now) < .milliseconds(9_500), "every request queued within the pause")
                try await group.waitForAll()
            }
            let position = try #require(order.lanes.firstIndex(of: .orderLookup))
            #expect(position <= 3, "the look-up went \(position + 1)th: \(order.lanes)")
        }
    }

    @Test func aPauseFromOneInstanceHoldsTheOther() async throws {
        let long = Self.account()
        let short = Self.account()
        try await TestServers.withRedis { first in
            try await TestServers.withRedis { second in
                let a = try Throttler(redis: first)
                let hasty = try Throttler(redis: second, maxWait: .zero)
                let patient = try Throttler(redis: second, maxWait: .seconds(10))
                try await a.pause(platform: .luma, for: .seconds(30), account: long)
                do {
                    try await hasty.acquire(platform: .luma, lane: .failsafe, account: long)
                    Issue.record("admitted during a pause")
                } catch ThrottleError.waitTooLong(_, _, let wait) {
                    #expect(wait > 0 && wait <= 30_000_000)
                }
                // Other platforms are not paused.
                try await hasty.acquire(platform: .eventbrite, lane: .reconciliation, account: long)
                let end = Date().addingTimeInterval(1)
                try await a.pause(platform: .luma, until: end, account: short)
                try await patient.acquire(platform: .luma, lane: .failsafe, account: short)
                // Redis's clock and ours are one host's; 50 ms for rounding and clock reading.
                #expect(Date() >= end.addingTimeInterval(-0.05))
            }
        }
    }

    @Test func unreachableRedisFallsBackToAReducedLocalBucket() async throws {
        // Full budget: 20 per 2 s + burst 8. The fallback at 50%: 10 per 2 s + burst 4.
        let budget = try Budget(limit: 40, periodMicros: 2_000_000, marginPercent: 50, burst: 8, failsafeReserve: 0)
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:1")
        configuration.connectTimeout = .milliseconds(200)
        configuration.commandTimeout = .milliseconds(200)
        let redis = RedisClient(configuration: configuration)
        let throttler = try Throttler(redis: redis, budgets: [.eventbrite: budget], maxWait: .seconds(10))
        let admissions = try await Self.hammer([throttler], .eventbrite, account: "default", tasks: 3, seconds: 3)
        await redis.shutdown()
        let times = admissions.all
        let fallback = await throttler.fallbackAdmissions
        #expect(fallback == times.count)
        #expect(admissions.maxInWindow(2.0) <= 4 + 10 + 1, "\(times)")
        #expect(admissions.maxInWindow(2.0) < 8 + 20, "the fallback ran at the full rate")
        #expect(times.count >= 2, "\(times)")
    }

    @Test func theScriptMatchesTheReferenceModel() async throws {
        let budget = try Budget(limit: 20, periodMicros: 2_000_000, marginPercent: 50, burst: 10, failsafeReserve: 6)
        let gcra = GCRA(budget: budget)
        let keys = try ThrottleKeys(platform: .luma, account: Self.account())
        try await TestServers.withRedis { redis in
            var generator = SplitMix64(seed: 42)
            var now: Int64 = 1_000_000_000_000
            var tat: Int64 = 0
            var paused: Int64 = 0
            for _ in 0..<200 {
                now += Int64.random(in: 0...300_000, using: &generator)
                let lane = Lane.allCases.randomElement(using: &generator) ?? .failsafe
                let cost = Int.random(in: 0...11, using: &generator)
                if Int.random(in: 0..<20, using: &generator) == 0 {
                    let length = Int64.random(in: 0...500_000, using: &generator)
                    let reply = try await redis.evalSHA(
                        ThrottleScripts.pause, keys: keys.all, arguments: [String(length), String(now)])
                    paused = max(paused, now + length)
                    #expect(reply.string == String(paused))
                }
                let expected = gcra.admit(cost: cost, lane: lane, at: now, tat: tat, pausedUntil: paused)
                let reply = try await redis.evalSHA(
                    ThrottleScripts.acquire, keys: keys.all,
                    arguments: [
                        String(budget.emissionIntervalMicros), String(gcra.toleranceMicros(for: lane)), String(cost),
                        String(now),
                    ])
                let items = try #require(reply.array)
                #expect(items[0].integer == (expected.allowed ? 1 : 0))
                #expect(items[1].integer == (expected.retryAfterMicros ?? -1))
                if expected.allowed { tat = expected.tat }
            }
            _ = try await redis.send(["DEL"] + keys.all)
        }
    }
}
