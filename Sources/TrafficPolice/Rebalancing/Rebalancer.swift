import Foundation
import Logging
import Metrics
import ServiceLifecycle
import TrafficPoliceCore

/// The rebalancer of DESIGN.md section 3: a swift-service-lifecycle `Service` that watches every
/// linked event's counters, moves unsold quota from slow platforms to fast ones, publishes each
/// platform's allocation, and closes every platform when the event reaches the soft cap.
///
/// It reads each event's counters every ``Configuration/watchInterval`` (one Redis read) and asks a
/// ``RebalanceTrigger`` (pure) whether a pass is due: at once when the event is past the soft cap and
/// a platform still offers tickets, when a platform has sold a share of its allocation, and every
/// ``Configuration/trigger`` interval. A pass (``pass(_:reason:)``) holds the event's lock
/// (``EventLock``), takes a fencing token, plans with ``RebalancePolicy`` (pure) and performs the
/// plan's steps in order through the ``CapacityPublisher`` (throttled, capacity-push lane) and the
/// fenced transfer script; every capacity change goes to the ledger with its fencing token.
///
/// An operator may ask for a pass of one event now (``requestPass(of:by:)``, the dashboard's
/// "Rebalance now"): it runs at the next look, like any pass, with reason `operator`.
///
/// Several daemons may run it against the same Redis: the lock makes one pass per event at a time,
/// and the fence makes a pass that lost its lock move nothing.
public actor Rebalancer: Service {
    /// How the rebalancer works. Every field has a default suited to the daemon.
    public struct Configuration: Sendable {
        /// When passes are due: every 10 s, when a platform sold 80% of its allocation (at most once
        /// a second), velocities over 60 s.
        public var trigger = RebalanceTrigger.Configuration()
        /// The plan's rules (horizon, reserve, smallest move; `movesQuota` false is a static split).
        public var policy = RebalancePolicy.Configuration()
        /// How often each event's counters are read. Default 250 ms.
        public var watchInterval: Duration = .milliseconds(250)
        /// How often the ledger's events and links are read again. Default 5 s.
        public var eventRefresh: Duration = .seconds(5)
        /// The event lock's time to live (renewed at every step). Default 30 s.
        public var lockTTL: Duration = .seconds(30)
        /// Read-backs of a shrink before it counts as unconfirmed, and the time between them.
        public var confirmAttempts = 20
        public var confirmInterval: Duration = .milliseconds(250)
        /// The first wait after a failed pass; it doubles up to `maximumBackoff`.
        public var backoff: Duration = .seconds(1)
        public var maximumBackoff: Duration = .seconds(30)
        /// How long a platform's own sold count (read when it refused a capacity, or when it was
        /// closed above the counters) is planned with while the counters show less. Default 30 s.
        public var platformCountTrust: Duration = .seconds(30)
        /// Which events it looks after (default: every event linked on a platform).
        public var selection: @Sendable (EventRecord) -> Bool = { _ in true }

        public init() {}
    }

    public let configuration: Configuration
    let desk: EventDesk
    let publisher: CapacityPublisher
    let locks: EventLock
    let board: RedAlertBoard
    /// Closed while the daemon is in fail-safe: no pass starts, and what the rebalancer knew is
    /// forgotten, so the first pass after reads every platform back and publishes the allocations again.
    let gate: WorkGate
    let logger: Logger
    private let ready: @Sendable () async -> Void
    let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    /// What the rebalancer knows of each event between passes.
    var watches: [EventID: EventWatch] = [:]
    private var events: [EventID: WatchedEvent] = [:]
    /// The passes operators asked for, run at the next look.
    private var requests = RebalanceRequests()

    /// An event the rebalancer watches: its record and where it is listed.
    struct WatchedEvent: Sendable {
        var record: EventRecord
        var listings: [Platform: ListingReference]
    }

    /// - Parameters:
    ///   - board: where red alerts are posted (the daemon's status line reads it).
    ///   - gate: closed while the daemon is in fail-safe (see ``gate``).
    ///   - ready: awaited before the first pass (the daemon passes its readiness).
    public init(
        desk: EventDesk, publisher: CapacityPublisher, locks: EventLock, board: RedAlertBoard = RedAlertBoard(),
        gate: WorkGate = WorkGate(), configuration: Configuration = Configuration(), logger: Logger,
        ready: @escaping @Sendable () async -> Void = {}
    ) {
        self.desk = desk
        self.publisher = publisher
        self.locks = locks
        self.board = board
        self.gate = gate
        self.configuration = configuration
        self.logger = logger
        self.ready = ready
        self.start = clock.now
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            await self.ready()
            try Task.checkCancellation()
            await self.watchLoop()
        }
    }

    /// Milliseconds since the rebalancer started (monotonic).
    var now: Int64 { milliseconds(start.duration(to: clock.now)) }

    private func watchLoop() async {
        logger.info(
            "rebalancer started",
            metadata: [
                "INTERVAL_MS": "\(configuration.trigger.intervalMilliseconds)",
                "MOVES_QUOTA": "\(configuration.policy.movesQuota)",
            ])
        var nextRefresh = Int64.min
        while !Task.isCancelled {
            guard gate.isOpen else {
                if !watches.isEmpty {
                    logger.notice("rebalancer paused for fail-safe; it reads every platform back afterwards")
                    watches = [:]
                }
                for request in requests.takeAll() {
                    logger.notice(
                        "rebalance pass asked by an operator dropped: fail-safe (recovery publishes every allocation again)",
                        metadata: request.metadata)
                }
                try? await Task.sleep(for: configuration.watchInterval)
                continue
            }
            if now >= nextRefresh {
                await refreshEvents()
                nextRefresh = now + milliseconds(configuration.eventRefresh)
            }
            for request in requests.takeAll() {
                guard !Task.isCancelled else { return }
                await runRequested(request)
            }
            for id in events.keys.sorted() {
                guard !Task.isCancelled else { return }
                await watch(id)
            }
            try? await Task.sleep(for: configuration.watchInterval)
        }
    }

    /// Reads the ledger's events and their links.
    private func refreshEvents() async {
        do {
            var fresh: [EventID: WatchedEvent] = [:]
            for record in try await desk.ledger.events() where configuration.selection(record) {
                let references = ListingReference.linked(try await desk.ledger.listings(record.id))
                guard !references.isEmpty else { continue }
                fresh[record.id] = WatchedEvent(record: record, listings: references)
            }
            events = fresh
            watches = watches.filter { fresh[$0.key] != nil }
        } catch {
            logger.warning("cannot read the events from the ledger", metadata: ["ERROR": "\(error)"])
        }
    }

    /// Reads one event's counters and runs a pass when one is due.
    private func watch(_ id: EventID) async {
        guard let event = events[id] else { return }
        let counters: EventCounters
        do {
            guard let live = try await desk.reservations.counters(event: id) else {
                try await desk.rebuild(id)
                return
            }
            counters = live
        } catch {
            return  // Redis is the watchdog's business; the next tick tries again.
        }
        var watch = watches[id] ?? EventWatch(trigger: RebalanceTrigger(configuration: configuration.trigger))
        noteMode(counters, of: event.record, watch: &watch)
        var claimed: [Platform: Int] = [:]
        for platform in event.listings.keys {
            claimed[platform] = watch.claimedSold(
                platform, counted: counters.sold[.platform(platform)] ?? 0, at: now,
                trust: milliseconds(configuration.platformCountTrust))
        }
        let reason = watch.trigger.observe(
            counters, softCap: event.record.policy.softCap, published: watch.published,
            linked: Set(event.listings.keys), platformSold: claimed, at: now)
        watches[id] = watch
        guard let reason else {
            // Nothing to publish: in red alert that means every platform is closed.
            if counters.mode == .redAlert {
                announceClosed(event, watch: &watch)
                watches[id] = watch
            }
            return
        }
        guard now >= watch.retryAt else { return }
        _ = await runPass(event, reason: reason)
    }

    /// Asks for a pass of `event` now on behalf of `operatorName` (the dashboard's "Rebalance now").
    /// It runs at the next look (within ``Configuration/watchInterval``), under the event's lock and
    /// fence like any pass, even while failed passes back off; a request while one waits for the
    /// event joins it. Refused for an event this rebalancer does not look after (the ledger is read
    /// again first, for an event created or linked since the last read) and in fail-safe.
    public func requestPass(of event: EventID, by operatorName: String) async -> RebalanceRequests.Outcome {
        if events[event] == nil, gate.isOpen { await refreshEvents() }
        let outcome = requests.request(event, by: operatorName, watched: events[event] != nil, failsafe: !gate.isOpen)
        logger.notice(
            "rebalance pass asked by an operator",
            metadata: RebalanceRequests.Request(event: event, requestedBy: operatorName).metadata.merging(
                ["OUTCOME": "\(outcome.rawValue)"]) { $1 })
        return outcome
    }

    /// Runs a pass an operator asked for, unless the event is no longer looked after or fail-safe began.
    private func runRequested(_ request: RebalanceRequests.Request) async {
        guard let event = events[request.event] else {
            logger.notice("rebalance pass asked by an operator dropped: the event is no longer watched", metadata: request.metadata)
            return
        }
        switch await runPass(event, reason: .operatorRequest, requestedBy: request.requestedBy) {
        case nil:
            logger.notice("rebalance pass asked by an operator dropped: fail-safe", metadata: request.metadata)
        case let succeeded?:
            logger.notice(
                "rebalance pass asked by an operator ran",
                metadata: request.metadata.merging(["OUTCOME": "\(succeeded ? "done" : "failed")"]) { $1 })
        }
    }

    /// Runs one pass through the publish gate and books it (the trigger's last pass, failures and
    /// backoff). Whether it succeeded; nil when the gate is closed (fail-safe) and nothing ran.
    private func runPass(
        _ event: WatchedEvent, reason: RebalanceTrigger.Reason, requestedBy: String? = nil
    ) async -> Bool? {
        let id = event.record.id
        guard gate.tryEnter() else { return nil }
        let succeeded = await pass(event, reason: reason, requestedBy: requestedBy)
        gate.leave()
        var after = watches[id] ?? EventWatch(trigger: RebalanceTrigger(configuration: configuration.trigger))
        after.trigger.passed(at: now)
        if succeeded {
            after.failures = 0
            after.retryAt = 0
        } else {
            after.failures += 1
            let backoff = min(
                milliseconds(configuration.backoff) << min(after.failures - 1, 16),
                milliseconds(configuration.maximumBackoff))
            after.retryAt = now + backoff
        }
        watches[id] = after
        return succeeded
    }

    /// Announces red alert the first time the counters show it, and leaves the board when the mode changes.
    private func noteMode(_ counters: EventCounters, of event: EventRecord, watch: inout EventWatch) {
        let id = event.id
        guard counters.mode == .redAlert else {
            if watch.redAlertSince != nil {
                watch.redAlertSince = nil
                watch.closingSince = nil
                board.leave(id)
            }
            return
        }
        guard watch.redAlertSince == nil else { return }
        watch.redAlertSince = clock.now
        if watch.closingSince == nil { watch.closingSince = watch.redAlertSince }
        watch.closedAnnounced = false
        if board.enter(id) {
            Counter(label: "traffic_police_red_alerts_total").increment()
            logger.critical(
                "RED ALERT: the event reached its soft cap; every platform is being closed and the rest sells only at the box office",
                metadata: [
                    "EVENT_ID": "\(id.rawValue)", "MODE": "red_alert", "SOLD": "\(counters.totalSold)",
                    "SOFT_CAP": "\(event.policy.softCap)", "CAPACITY": "\(counters.capacity)",
                    "STOCK": "\(counters.stock)",
                ])
        }
        Gauge(label: "traffic_police_events_in_red_alert").record(board.events.count)
    }

    func milliseconds(_ duration: Duration) -> Int64 { EventbriteOrderResolver.milliseconds(duration) }

    /// Time since `instant`, in milliseconds.
    func elapsed(since instant: ContinuousClock.Instant) -> Int64 {
        milliseconds(instant.duration(to: clock.now))
    }
}

extension RebalanceRequests.Request {
    /// The fields a request's log lines carry.
    var metadata: Logger.Metadata {
        ["EVENT_ID": "\(event.rawValue)", "OPERATOR": "\(requestedBy)", "REASON": "\(RebalanceTrigger.Reason.operatorRequest.rawValue)"]
    }
}

/// What the rebalancer knows of one event between passes.
struct EventWatch: Sendable {
    var trigger: RebalanceTrigger
    /// What each linked platform publishes, as the last pass left it.
    var published: [Platform: Int] = [:]
    /// For a shrink or close not yet read back: the capacity the platform may still offer.
    var unconfirmed: [Platform: Int] = [:]
    /// What a platform said it sold when that was more than the counters showed (its webhooks or
    /// polls lag): planning counts at least this much sold until the counters catch up, or until it
    /// is older than the trust given it (``Rebalancer/Configuration/platformCountTrust``: a sale the
    /// platform counted may since have been cancelled there; the next close then asks again).
    var platformSold: [Platform: Int] = [:]
    /// When each `platformSold` was said (rebalancer milliseconds).
    var platformSoldAt: [Platform: Int64] = [:]
    /// Whether the platforms' capacities were read back since the daemon started.
    var readBack = false
    /// What a read back found that the ledger cannot hold (no limit: Luma's unknown capacity, a
    /// Meetup limit of 0), until the rebalancer publishes a capacity there.
    var unlimitedUntilPublished: Set<Platform> = []
    var redAlertSince: ContinuousClock.Instant?
    /// When this daemon first saw the event at its soft cap: red alert seen in the counters, or a
    /// pass began closing the platforms (a platform's own count may show it first).
    var closingSince: ContinuousClock.Instant?
    var closedAnnounced = false
    /// Failed passes in a row, and when the next may run (ms).
    var failures = 0
    var retryAt: Int64 = 0
}

extension EventWatch {
    /// Records what `platform` said it sold at `now`.
    mutating func remember(_ platform: Platform, said: Int, at now: Int64) {
        platformSold[platform] = max(platformSold[platform] ?? 0, said)
        platformSoldAt[platform] = now
    }

    /// The platform's own count while it is above `counted` and younger than `trust` ms (forgotten
    /// once the counters reach it; kept, but not used, once older: see ``stale(counted:at:trust:)``).
    mutating func claimedSold(_ platform: Platform, counted: Int, at now: Int64, trust: Int64) -> Int? {
        guard let said = platformSold[platform] else { return nil }
        guard said > counted else {
            forget(platform)
            return nil
        }
        return now - (platformSoldAt[platform] ?? now) < trust ? said : nil
    }

    /// The platforms whose own count is above the counters but older than `trust` ms: to be read again.
    func stale(counted: [Platform: Int], at now: Int64, trust: Int64) -> [Platform] {
        platformSold.keys.sorted().filter { platform in
            (platformSold[platform] ?? 0) > (counted[platform] ?? 0) && now - (platformSoldAt[platform] ?? now) >= trust
        }
    }

    mutating func forget(_ platform: Platform) {
        platformSold[platform] = nil
        platformSoldAt[platform] = nil
    }
}
