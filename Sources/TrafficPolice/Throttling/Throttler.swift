import Foundation
import RedisBridge
import TrafficPoliceCore

/// Every outbound platform call waits here first (DESIGN.md section 4, Throttler; G7).
///
/// One GCRA bucket per platform token lives in Redis (``ThrottleScripts``), shared by every daemon
/// instance. Lanes are served by priority with ageing within this instance (``LaneScheduler``) and, across
/// instances, by the burst reserved for the fail-safe lane. While Redis is unreachable a local bucket
/// at `fallbackPercent` of the budget takes over, since other instances may be spending too; after an
/// outage Redis is tried again only every `outageProbe`, so calls do not each wait for a connect timeout.
public actor Throttler {
    public let budgets: [Platform: Budget]
    /// The longest one `acquire` may wait before it throws ``ThrottleError/waitTooLong``.
    public let maxWait: Duration
    /// How long the local bucket decides alone after Redis was unreachable, before Redis is tried again.
    public let outageProbe: Duration
    private let redis: RedisClient
    private let fallback: [Platform: GCRA]
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var local: [ThrottleKeys: (tat: Int64, pausedUntil: Int64)] = [:]
    private var schedulers: [ThrottleKeys: LaneScheduler] = [:]
    private var redisDownUntil: Int64 = Int64.min
    /// Admissions decided by the local fallback bucket (for metrics and tests).
    public private(set) var fallbackAdmissions = 0

    /// `budgets` override ``Budget/standard(for:)`` per platform; while Redis is down each runs
    /// locally at `fallbackPercent` of its rate and burst.
    public init(
        redis: RedisClient, budgets: [Platform: Budget] = Throttler.standardBudgets, fallbackPercent: Int = 50,
        maxWait: Duration = .seconds(300), outageProbe: Duration = .seconds(1)
    ) throws {
        self.redis = redis
        let budgets = Throttler.standardBudgets.merging(budgets) { _, given in given }
        self.budgets = budgets
        self.maxWait = maxWait
        self.outageProbe = outageProbe
        var fallback: [Platform: GCRA] = [:]
        for (platform, budget) in budgets { fallback[platform] = GCRA(budget: try budget.scaled(toPercent: fallbackPercent)) }
        self.fallback = fallback
        self.start = clock.now
    }

    /// ``Budget/standard(for:)`` for every platform.
    public static var standardBudgets: [Platform: Budget] {
        Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, Budget.standard(for: $0)) })
    }

    /// Waits until a call of `cost` (Meetup: points; others: 1) on `lane` is admitted for the token
    /// `account`. Cancellable; throws ``ThrottleError`` when the cost can never fit or the wait would
    /// exceed `maxWait`.
    @discardableResult
    public func acquire(platform: Platform, lane: Lane, cost: Int = 1, account: String = "default") async throws
        -> ThrottleAdmission
    {
        let keys = try ThrottleKeys(platform: platform, account: account)
        let gcra = GCRA(budget: budgets[platform] ?? Budget.standard(for: platform))
        guard gcra.fits(cost: cost, lane: lane) else {
            throw ThrottleError.costTooLarge(
                platform: platform, lane: lane, cost: cost, capacity: gcra.budget.capacity(for: lane))
        }
        schedulers[keys, default: LaneScheduler()].enqueue(lane)
        defer {
            schedulers[keys]?.dequeue(lane)
            if schedulers[keys]?.waiting.isEmpty == true { schedulers[keys] = nil }
        }
        let started = clock.now
        let deadline = started.advanced(by: maxWait)
        while true {
            try Task.checkCancellation()
            var wait: Int64 = 20_000  // a higher lane is waiting here: look again shortly
            if schedulers[keys]?.mayProceed(lane) ?? true {
                let outcome = try await attempt(keys, platform: platform, gcra: gcra, lane: lane, cost: cost)
                if outcome.retry == 0 {
                    schedulers[keys]?.admitted(lane)
                    return ThrottleAdmission(redisTimeMicros: outcome.redisTime, waited: started.duration(to: clock.now))
                }
                wait = outcome.retry
            }
            let wake = clock.now.advanced(by: .microseconds(wait))
            guard wake <= deadline else {
                throw ThrottleError.waitTooLong(platform: platform, lane: lane, waitMicros: wait)
            }
            try await Task.sleep(until: wake, clock: clock)
        }
    }

    /// Decides on the local fallback bucket from now until the next outage probe, without first
    /// waiting for Redis to time out (the watchdog already saw it go: fail-safe closes go out at once).
    public func assumeRedisDown() {
        redisDownUntil = max(redisDownUntil, localNow() + Self.micros(outageProbe))
    }

    /// Requests waiting here per lane for a platform token (queue depth, for metrics).
    public func waiting(platform: Platform, account: String = "default") throws -> [Lane: Int] {
        schedulers[try ThrottleKeys(platform: platform, account: account)]?.waiting ?? [:]
    }

    /// Pauses the token's bucket for `length` on every instance (a 429 with Retry-After, or Meetup's
    /// RATE_LIMITED until `resetAt`). The pause is also kept locally, so it holds while Redis is down.
    public func pause(platform: Platform, for length: Duration, account: String = "default") async throws {
        let keys = try ThrottleKeys(platform: platform, account: account)
        let micros = Self.micros(length)
        let until = localNow() + micros
        local[keys, default: (0, 0)].pausedUntil = max(local[keys]?.pausedUntil ?? 0, until)
        do {
            _ = try await redis.evalSHA(ThrottleScripts.pause, keys: keys.all, arguments: [String(micros), ""])
        } catch let error as RedisError where Self.isOutage(error) {
            return
        } catch let error as RedisError {
            throw ThrottleError.redis(error.description)
        }
    }

    /// Pauses until a wall-clock time (Meetup's `resetAt`), measured on this host's clock.
    public func pause(platform: Platform, until end: Date, now: Date = Date(), account: String = "default")
        async throws
    {
        let seconds = max(0, end.timeIntervalSince(now))
        try await pause(platform: platform, for: .milliseconds(Int64((seconds * 1000).rounded(.up))), account: account)
    }

    /// One try at the bucket: retry 0 when admitted, otherwise the microseconds to wait; with
    /// Redis's time of the decision when Redis decided.
    private func attempt(_ keys: ThrottleKeys, platform: Platform, gcra: GCRA, lane: Lane, cost: Int) async throws
        -> (retry: Int64, redisTime: Int64?)
    {
        let now = localNow()
        if let paused = local[keys]?.pausedUntil, paused > now { return (paused - now, nil) }
        if now < redisDownUntil { return (attemptLocally(keys, platform: platform, lane: lane, cost: cost), nil) }
        let reply: RedisReply
        do {
            reply = try await redis.evalSHA(
                ThrottleScripts.acquire, keys: keys.all,
                arguments: [
                    String(gcra.budget.emissionIntervalMicros), String(gcra.toleranceMicros(for: lane)), String(cost), "",
                ])
        } catch let error as RedisError where Self.isOutage(error) {
            redisDownUntil = localNow() + Self.micros(outageProbe)
            return (attemptLocally(keys, platform: platform, lane: lane, cost: cost), nil)
        } catch let error as RedisError {
            throw ThrottleError.redis(error.description)
        }
        guard let items = reply.array, items.count == 3, let allowed = items[0].integer,
            let retry = items[1].integer, let redisTime = items[2].integer
        else {
            throw ThrottleError.redis("unexpected reply \(reply)")
        }
        if allowed == 1 { return (0, redisTime) }
        guard retry > 0 else {
            throw ThrottleError.costTooLarge(
                platform: platform, lane: lane, cost: cost, capacity: gcra.budget.capacity(for: lane))
        }
        return (retry, redisTime)
    }

    /// The same step on this instance's reduced bucket, while Redis is unreachable. A cost beyond the
    /// reduced lane's capacity goes alone from an idle bucket and is charged in full.
    private func attemptLocally(_ keys: ThrottleKeys, platform: Platform, lane: Lane, cost: Int) -> Int64 {
        guard let gcra = fallback[platform] else { return 1_000_000 }
        let now = localNow()
        let state = local[keys] ?? (0, 0)
        var decision = gcra.admit(cost: cost, lane: lane, at: now, tat: state.tat, pausedUntil: state.pausedUntil)
        if !gcra.fits(cost: cost, lane: lane) {
            let busy = max(state.tat, state.pausedUntil) - now
            decision = GCRA.Decision(
                allowed: busy <= 0, tat: max(state.tat, now) + Int64(cost) * gcra.budget.emissionIntervalMicros,
                retryAfterMicros: busy)
        }
        guard decision.allowed else { return max(1, decision.retryAfterMicros ?? 1_000_000) }
        local[keys] = (decision.tat, state.pausedUntil)
        fallbackAdmissions += 1
        return 0
    }

    private func localNow() -> Int64 { Self.micros(start.duration(to: clock.now)) }

    static func isOutage(_ error: RedisError) -> Bool {
        error.kind == .connectionFailed || error.kind == .timeout || error.kind == .connectionClosed
    }

    /// Whole microseconds in `duration`, saturating.
    static func micros(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return whole.addingReportingOverflow(attoseconds / 1_000_000_000_000).overflow
            ? Int64.max : whole + attoseconds / 1_000_000_000_000
    }
}
