/// A platform's rate limit as the throttler runs it: `limit` cost units per `periodMicros`, taken at
/// `marginPercent`, plus a burst that never lifts a window above the platform's own limit.
///
/// Defaults (platforms.md sections 1.5, 2.5, 3.5): Eventbrite 2,000 calls per hour per token and
/// Luma 200 requests per minute per calendar key, both at 90% (they publish the limit, so 10% is slack
/// for clock edges and calls made outside the daemon) with the burst in the rest; Meetup 500 points
/// per 60 s, of which no window may use more than 80%, burst included (DESIGN.md: its point costs
/// are not published), so its `limit` is that 80% ceiling (400). In any window of one period the
/// throttler admits at most `effectiveLimit + burst` cost, and `init` refuses a budget where that
/// exceeds `limit`.
/// Integers only: microseconds and whole cost units, so no floating point drifts.
public struct Budget: Sendable, Hashable {
    /// The platform's published limit, in cost units per period.
    public let limit: Int
    /// The platform's period, in microseconds.
    public let periodMicros: Int64
    /// The share of `limit` the steady rate may use, 1...100.
    public let marginPercent: Int
    /// Cost that may be spent at once from an idle bucket (the bucket's depth), at least 1.
    public let burst: Int
    /// Part of `burst` only the fail-safe lane may use (closing many listings at once).
    public let failsafeReserve: Int

    public init(limit: Int, periodMicros: Int64, marginPercent: Int, burst: Int, failsafeReserve: Int) throws {
        guard limit >= 1, periodMicros >= 1 else { throw DomainError("a budget needs a positive limit and period") }
        guard (1...100).contains(marginPercent) else { throw DomainError("margin must be 1...100 percent") }
        let effective = limit * marginPercent / 100
        guard effective >= 1 else { throw DomainError("the margined limit rounds to zero") }
        guard burst >= 1, effective + burst <= limit else {
            throw DomainError("burst must be 1...\(limit - effective) so a window stays within \(limit)")
        }
        guard failsafeReserve >= 0, failsafeReserve < burst else {
            throw DomainError("the fail-safe reserve must leave lower lanes at least 1 of the burst")
        }
        self.limit = limit
        self.periodMicros = periodMicros
        self.marginPercent = marginPercent
        self.burst = burst
        self.failsafeReserve = failsafeReserve
    }

    /// The steady rate's share of the limit per period (`limit × margin`, rounded down).
    public var effectiveLimit: Int { limit * marginPercent / 100 }

    /// Time one cost unit occupies, rounded up so the rate never exceeds `effectiveLimit`.
    public var emissionIntervalMicros: Int64 {
        let units = Int64(effectiveLimit)
        return (periodMicros + units - 1) / units
    }

    /// The largest cost the lane may spend at once from an idle bucket.
    public func capacity(for lane: Lane) -> Int {
        lane == .failsafe ? burst : burst - failsafeReserve
    }

    /// This budget scaled down to `percent` of its rate and burst (the local fallback while Redis is down).
    public func scaled(toPercent percent: Int) throws -> Budget {
        guard (1...100).contains(percent) else { throw DomainError("fallback share must be 1...100 percent") }
        let burst = max(1, self.burst * percent / 100)
        return try Budget(
            limit: limit, periodMicros: periodMicros, marginPercent: max(1, marginPercent * percent / 100),
            burst: burst, failsafeReserve: min(burst - 1, failsafeReserve * percent / 100))
    }

    /// The default budget for a platform (see the type's documentation).
    public static func standard(for platform: Platform) -> Budget {
        // Constant, checked by BudgetTests; the fallback is unreachable.
        switch platform {
        case .eventbrite:
            (try? Budget(limit: 2_000, periodMicros: 3_600_000_000, marginPercent: 90, burst: 20, failsafeReserve: 10))
                ?? .minimal
        case .luma:
            (try? Budget(limit: 200, periodMicros: 60_000_000, marginPercent: 90, burst: 20, failsafeReserve: 10))
                ?? .minimal
        case .meetup:
            // A ceiling of 80% of 500 points: 300 steady + a burst of 100. 5 points per mutation: the
            // reserve closes 8 listings at once; lower lanes keep 60 points, enough for one page of
            // 50 RSVPs (1 + 50 nodes).
            (try? Budget(limit: 400, periodMicros: 60_000_000, marginPercent: 75, burst: 100, failsafeReserve: 40))
                ?? .minimal
        }
    }

    /// Meetup's budget from its published points per period and the share of them any window may
    /// use (its costs are not published: the margin caps the burst too). The burst is the standard
    /// one scaled to `points` (at least 2, at most half the ceiling); the steady rate is the rest.
    public static func meetup(points: Int, marginPercent: Int) throws -> Budget {
        guard (1...100).contains(marginPercent) else { throw DomainError("margin must be 1...100 percent") }
        let ceiling = points * marginPercent / 100
        guard ceiling >= 4 else {
            throw DomainError("\(marginPercent)% of \(points) points leaves less than 4 points per period")
        }
        let standard = Budget.standard(for: .meetup)
        let burst = min(ceiling / 2, max(2, points * standard.burst / 500))
        let reserve = min(burst - 1, max(1, burst * standard.failsafeReserve / standard.burst))
        return try Budget(
            limit: ceiling, periodMicros: standard.periodMicros, marginPercent: (ceiling - burst) * 100 / ceiling,
            burst: burst, failsafeReserve: reserve)
    }

    /// A budget of `limit` per the platform's standard period at `marginPercent`, with the standard
    /// budget's burst and fail-safe reserve scaled to `limit` (at least 2 and 1), and never more
    /// burst than the margin leaves. Throws when the margin leaves no room for a burst of 2.
    /// Meetup's is ``meetup(points:marginPercent:)``: its margin caps every window, burst included.
    public static func configured(for platform: Platform, limit: Int, marginPercent: Int) throws -> Budget {
        if platform == .meetup { return try meetup(points: limit, marginPercent: marginPercent) }
        let standard = Budget.standard(for: platform)
        guard limit >= 2 else { throw DomainError("the limit must be at least 2") }
        guard (1...100).contains(marginPercent) else { throw DomainError("margin must be 1...100 percent") }
        let room = limit - limit * marginPercent / 100
        guard room >= 2 else {
            throw DomainError("a margin of \(marginPercent)% of \(limit) leaves no room for a burst (at least 2)")
        }
        let burst = min(room, max(2, limit * standard.burst / standard.limit))
        let reserve = min(burst - 1, max(1, burst * standard.failsafeReserve / standard.burst))
        return try Budget(
            limit: limit, periodMicros: standard.periodMicros, marginPercent: marginPercent, burst: burst,
            failsafeReserve: reserve)
    }

    /// One call per second, no burst to share: only a fallback for a constant that failed to validate.
    private static let minimal = Budget(unchecked: 2, periodMicros: 2_000_000, marginPercent: 50, burst: 1)

    private init(unchecked limit: Int, periodMicros: Int64, marginPercent: Int, burst: Int) {
        self.limit = limit
        self.periodMicros = periodMicros
        self.marginPercent = marginPercent
        self.burst = burst
        self.failsafeReserve = 0
    }
}
