/// Meetup's point budget: `limit` points per key in any rolling `window` seconds.
///
/// A request is refused when the points the key spent in the last `window` seconds already reach
/// the limit; an admitted request is charged its real cost once it is known (`charge`), so one
/// expensive request may take the total past the limit, and the next one is then refused.
public struct RollingPointsLimiter: Sendable {
    /// Why a request is refused: the points spent in the window and when enough expire.
    public struct Refusal: Equatable, Sendable {
        public var consumedPoints: Int
        public var resetAt: Double
    }

    public var limit: Int
    public var window: Double
    private var charges: [String: [(time: Double, points: Int)]] = [:]

    public init(limit: Int, window: Double) {
        self.limit = limit
        self.window = window
    }

    /// Points `key` spent in (now − window, now].
    public mutating func consumed(_ key: String, now: Double) -> Int {
        prune(key, now: now)
        return charges[key, default: []].reduce(0) { $0 + $1.points }
    }

    /// nil when `key` may make a request at `now`; otherwise the refusal.
    public mutating func check(_ key: String, now: Double) -> Refusal? {
        let spent = consumed(key, now: now)
        guard spent >= limit else { return nil }
        // The budget reopens when the oldest charges expire and the rest drop below the limit.
        var remaining = spent
        var resetAt = now
        for charge in charges[key, default: []] {
            remaining -= charge.points
            resetAt = charge.time + window
            if remaining < limit { break }
        }
        return Refusal(consumedPoints: spent, resetAt: resetAt)
    }

    /// Records `points` spent by `key` at `now`.
    public mutating func charge(_ key: String, points: Int, now: Double) {
        prune(key, now: now)
        charges[key, default: []].append((time: now, points: points))
    }

    public mutating func reset() { charges = [:] }

    private mutating func prune(_ key: String, now: Double) {
        guard var list = charges[key] else { return }
        list.removeAll { $0.time + window <= now }
        charges[key] = list
    }
}

/// Meetup's cost model (DESIGN.md section 4): 1 point per request, 1 per node returned, 5 per mutation.
/// A node is one RSVP returned as `edges { node }`; the `event` object (of a query or a mutation payload)
/// is not one. The client's `MeetupCost` computes the same, so its `cost` equals the points charged here.
public struct MeetupCostModel: Sendable, Equatable {
    public var perRequest = 1
    public var perNode = 1
    public var perMutation = 5

    public init(perRequest: Int = 1, perNode: Int = 1, perMutation: Int = 5) {
        self.perRequest = perRequest
        self.perNode = perNode
        self.perMutation = perMutation
    }

    /// The points of one request that returned `nodes` nodes and ran `mutations` mutations.
    public func cost(nodes: Int, mutations: Int) -> Int { perRequest + perNode * nodes + perMutation * mutations }
}
