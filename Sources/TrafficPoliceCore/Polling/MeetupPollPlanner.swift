/// How often to poll each linked Meetup event and how many RSVPs to ask for, within the points
/// the throttler can give polling (DESIGN.md section 4: 1 point per request plus 1 per node
/// returned; an idle event at least every `maxIntervalMilliseconds`).
///
/// Each event aims at `changesPerPoll` new RSVPs per poll at its current velocity, within
/// `minIntervalMilliseconds…maxIntervalMilliseconds`, with a page a quarter larger than the changes
/// it expects. When the events together would spend more than `pointsPerMinute`, the busy events'
/// intervals are stretched by one factor up to the longest interval; if that is not enough, pages
/// shrink (the rest is read on later polls); only when every event at the smallest page and the
/// longest interval is still too dear do intervals grow past the longest, and the plan is marked
/// `overBudget`. The throttler holds the line either way.
public struct MeetupPollPlanner: Sendable, Hashable {
    /// The planner's knobs; defaults suit Meetup's 500 points per minute at 80%, most of it for polling.
    public struct Configuration: Sendable, Hashable {
        /// Points per minute polling may spend across all events. Default 300.
        public var pointsPerMinute: Int = 300
        /// Shortest interval between polls of one event. Default 2 s.
        public var minIntervalMilliseconds: Int64 = 2_000
        /// Longest interval: an idle event is still read this often. Default 30 s.
        public var maxIntervalMilliseconds: Int64 = 30_000
        /// Smallest page asked for. Default 5.
        public var minPage: Int = 5
        /// Largest page asked for (must fit the throttler's burst for look-ups). Default 50.
        public var maxPage: Int = 50
        /// New RSVPs a poll should find at the current velocity. Default 20.
        public var changesPerPoll: Double = 20

        public init() {}
    }

    /// One event's schedule.
    public struct Schedule: Sendable, Hashable {
        public var intervalMilliseconds: Int64
        public var pageSize: Int

        public init(intervalMilliseconds: Int64, pageSize: Int) {
            self.intervalMilliseconds = intervalMilliseconds
            self.pageSize = pageSize
        }

        /// Points per minute this schedule spends (1 + page per poll).
        public var pointsPerMinute: Double {
            Double(1 + pageSize) * 60_000 / Double(intervalMilliseconds)
        }
    }

    public struct Plan: Sendable, Hashable {
        public var schedules: [String: Schedule]
        /// Even stretched, the events need more than the budget.
        public var overBudget: Bool
        public var pointsPerMinute: Double { schedules.values.reduce(0) { $0 + $1.pointsPerMinute } }
    }

    public let configuration: Configuration

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Plans every event from its velocity (RSVP changes per second).
    public func plan(velocities: [String: Double]) -> Plan {
        let c = configuration
        var wanted: [String: Int64] = [:]
        for (event, velocity) in velocities {
            let interval = velocity > 0 ? c.changesPerPoll / velocity * 1_000 : Double(c.maxIntervalMilliseconds)
            wanted[event] = clamp(Int64(interval.rounded(.up)), c.minIntervalMilliseconds, c.maxIntervalMilliseconds)
        }
        let budget = Double(max(1, c.pointsPerMinute))
        // Longer intervals never cost more points a minute, so search for the smallest stretch that
        // fits: first of the busy events up to the longest interval, then, failing that, of all.
        let capped = { (factor: Double) in schedules(velocities, wanted, factor, cap: c.maxIntervalMilliseconds) }
        var plan = Plan(schedules: capped(1), overBudget: false)
        if plan.pointsPerMinute > budget {
            let widest = Double(c.maxIntervalMilliseconds) / Double(max(1, c.minIntervalMilliseconds))
            let atLongest = capped(widest)
            if Self.points(atLongest) <= budget {
                plan.schedules = capped(Self.smallestFactor(upTo: widest) { Self.points(capped($0)) <= budget })
            } else {
                // Every event at the longest interval is still too dear: smaller pages (the rest of
                // the changes are read on later polls), and only below the smallest page, longer intervals.
                let shrunk = { (factor: Double) in
                    atLongest.mapValues {
                        Schedule(
                            intervalMilliseconds: $0.intervalMilliseconds,
                            pageSize: max(c.minPage, Int(Double($0.pageSize) / factor)))
                    }
                }
                let smallest = shrunk(Double(max(1, c.maxPage)))
                if Self.points(smallest) <= budget {
                    plan.schedules = shrunk(
                        Self.smallestFactor(upTo: Double(max(1, c.maxPage))) { Self.points(shrunk($0)) <= budget })
                } else {
                    let all = { (factor: Double) in
                        smallest.mapValues {
                            Schedule(
                                intervalMilliseconds: Int64((Double($0.intervalMilliseconds) * factor).rounded(.up)),
                                pageSize: $0.pageSize)
                        }
                    }
                    plan.schedules = all(Self.smallestFactor(upTo: 1_000_000) { Self.points(all($0)) <= budget })
                }
            }
        }
        plan.overBudget = plan.schedules.values.contains { $0.intervalMilliseconds > c.maxIntervalMilliseconds }
        return plan
    }

    private func schedules(
        _ velocities: [String: Double], _ base: [String: Int64], _ factor: Double, cap: Int64
    ) -> [String: Schedule] {
        var result: [String: Schedule] = [:]
        for (event, interval) in base {
            let stretched = min(Double(cap), Double(interval) * factor)
            let milliseconds = max(interval, Int64(stretched.rounded(.up)))
            result[event] = Schedule(
                intervalMilliseconds: milliseconds, pageSize: page(velocities[event] ?? 0, milliseconds))
        }
        return result
    }

    private static func points(_ schedules: [String: Schedule]) -> Double {
        schedules.values.reduce(0) { $0 + $1.pointsPerMinute }
    }

    /// The smallest factor in 1...limit that `fits` (bisection; `fits(limit)` is assumed).
    private static func smallestFactor(upTo limit: Double, fits: (Double) -> Bool) -> Double {
        var low = 1.0
        var high = limit
        for _ in 0..<60 where high - low > 1e-6 * high {
            let middle = (low + high) / 2
            if fits(middle) { high = middle } else { low = middle }
        }
        return high
    }

    private func page(_ velocity: Double, _ intervalMilliseconds: Int64) -> Int {
        let expected = max(0, velocity) * Double(intervalMilliseconds) / 1_000 * 1.25
        let wanted = expected >= Double(configuration.maxPage) ? configuration.maxPage : Int(expected.rounded(.up)) + 1
        return clamp(wanted, configuration.minPage, max(configuration.minPage, configuration.maxPage))
    }
}

private func clamp<T: Comparable>(_ value: T, _ low: T, _ high: T) -> T {
    min(max(value, low), high)
}
