/// The Meetup poller's decisions (pure): which linked event to read next and when, how large its
/// pages are, and what a poll leaves behind. Times are milliseconds on one monotonic clock.
///
/// Each event keeps its ``RSVPChangeTracker``, its ``SalesVelocity`` (RSVP changes per second seen
/// by the head of its polls) and what a poll left to read again. After every poll all events are
/// re-planned with ``MeetupPollPlanner``: an event is next due `interval` after its last poll
/// (at most the planner's longest interval, 30 s by default, for an idle event), sooner — at the
/// shortest interval — while it has a rescan pending, and never before the end of its error backoff.
public struct MeetupPollSchedule: Sendable {
    /// The knobs; defaults suit Meetup's 500 points per minute (DESIGN.md section 4).
    public struct Configuration: Sendable, Hashable {
        /// Intervals, page sizes and the points per minute polling may spend.
        public var planner = MeetupPollPlanner.Configuration()
        /// Time constant of each event's velocity. Default 60 s.
        public var velocityWindowMilliseconds: Int64 = 60_000
        /// Pages one poll may read at most (head and rescan together). Default 4.
        public var maxPagesPerPoll: Int = 4
        /// The pause after a failed poll, doubled on each failure in a row. Default 1 s.
        public var errorBackoffMilliseconds: Int64 = 1_000
        /// The longest pause after failures. Default 30 s.
        public var maxErrorBackoffMilliseconds: Int64 = 30_000

        public init() {}
    }

    /// One event's state.
    public struct EventState: Sendable {
        public var tracker = RSVPChangeTracker()
        public var velocity: SalesVelocity
        public var rescan: RSVPCursor?
        public var lastPolledAt: Int64?
        /// When it was added (due at once).
        public var addedAt: Int64
        /// Failed polls in a row.
        public var failures = 0
        /// No poll before this (error backoff).
        public var notBefore: Int64 = .min
        public var schedule: MeetupPollPlanner.Schedule
        /// When the event is next due.
        public var dueAt: Int64
    }

    public let configuration: Configuration
    public let planner: MeetupPollPlanner
    public private(set) var events: [String: EventState] = [:]
    /// The last plan (for logs and metrics).
    public private(set) var plan = MeetupPollPlanner.Plan(schedules: [:], overBudget: false)

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        self.planner = MeetupPollPlanner(configuration: configuration.planner)
    }

    /// Follows the ledger's links: new Meetup events are due now, unlinked ones are dropped.
    public mutating func sync(linked: Set<String>, now: Int64) {
        let before = Set(events.keys)
        for gone in before.subtracting(linked) { events[gone] = nil }
        let initial = MeetupPollPlanner.Schedule(
            intervalMilliseconds: configuration.planner.maxIntervalMilliseconds, pageSize: configuration.planner.maxPage)
        for added in linked.subtracting(before) {
            events[added] = EventState(
                velocity: SalesVelocity(windowMilliseconds: configuration.velocityWindowMilliseconds),
                addedAt: now, schedule: initial, dueAt: now)
        }
        if before != linked { replan(now: now) }
    }

    /// The event due first (ties by id), with when it is due; nil when no event is linked.
    public func next() -> (eventID: String, dueAt: Int64)? {
        events.min { a, b in a.value.dueAt != b.value.dueAt ? a.value.dueAt < b.value.dueAt : a.key < b.key }
            .map { ($0.key, $0.value.dueAt) }
    }

    /// Starts a poll of `eventID` (nil when it is not linked).
    public func pass(for eventID: String) -> MeetupPollPass? {
        guard let state = events[eventID] else { return nil }
        return MeetupPollPass(
            eventID: eventID, pageSize: state.schedule.pageSize, maxPages: configuration.maxPagesPerPoll,
            tracker: state.tracker, rescan: state.rescan, firstRead: state.lastPolledAt == nil)
    }

    /// Takes back a poll that read all it meant to; re-plans every event.
    public mutating func finish(_ pass: MeetupPollPass, now: Int64) {
        guard var state = events[pass.eventID] else { return }
        state.tracker = pass.tracker
        state.rescan = pass.rescan
        if !pass.firstRead { state.velocity.record(pass.headChanges, at: now) }
        state.lastPolledAt = now
        state.failures = 0
        state.notBefore = .min
        events[pass.eventID] = state
        replan(now: now)
    }

    /// Takes back a poll that failed (after ``MeetupPollPass/failed()``): backs the event off.
    public mutating func fail(_ pass: MeetupPollPass, now: Int64) {
        guard var state = events[pass.eventID] else { return }
        state.tracker = pass.tracker
        state.rescan = pass.rescan
        state.failures += 1
        state.notBefore = now + backoff(failures: state.failures)
        events[pass.eventID] = state
        replan(now: now)
    }

    /// The pause after `failures` failed polls in a row: the base doubled per failure, capped.
    public func backoff(failures: Int) -> Int64 {
        let base = max(1, configuration.errorBackoffMilliseconds)
        let cap = max(base, configuration.maxErrorBackoffMilliseconds)
        var delay = base
        for _ in 1..<max(1, failures) where delay < cap { delay = min(cap, delay * 2) }
        return delay
    }

    /// Re-plans every event from its velocity at `now`.
    public mutating func replan(now: Int64) {
        plan = planner.plan(velocities: events.mapValues { $0.velocity.perSecond(at: now) })
        for (id, var state) in events {
            if let schedule = plan.schedules[id] { state.schedule = schedule }
            var due = state.lastPolledAt.map { $0 + state.schedule.intervalMilliseconds } ?? state.addedAt
            if state.rescan != nil, let last = state.lastPolledAt {
                due = min(due, last + configuration.planner.minIntervalMilliseconds)
            }
            state.dueAt = max(due, state.notBefore)
            events[id] = state
        }
    }
}
