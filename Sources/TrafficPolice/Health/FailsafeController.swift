import Logging
import Metrics
import ServiceLifecycle
import TrafficPoliceCore

/// What the daemon does about fail-safe (G5, G6): a swift-service-lifecycle `Service` that follows
/// the ``RedisWatchdog``.
///
/// - **Entering fail-safe**: the rebalancer's gate closes (no capacity is published), queue jobs are
///   held back when Redis is what failed, and every listing is told to stop selling through the
///   throttler's fail-safe lane (``FailsafeCloser``), again and again until all are closed; the time
///   from the trip until every listing acknowledged is logged (`ELAPSED_MS`).
/// - **Recovering** (Redis answers again, or an operator turned the switch off): waits for the jobs in
///   flight, checks the marker (``RedisMarker``), rebuilds every event's counters from the ledger,
///   replays the spool into the queue, and when Redis lost data reconciles every open event against
///   the platforms first; then stamps the marker and reports the recovery done. A step that fails
///   is tried again after ``Configuration/recoveryRetry``.
/// - **Leaving fail-safe**: the gates open; the rebalancer reads every platform back and publishes
///   the allocations again.
/// - **Healthy**: checks the marker every ``Configuration/markerInterval`` and reports a loss of
///   Redis's data to the watchdog (which trips fail-safe for it).
public actor FailsafeController: Service {
    /// Timings. Every field has a default suited to the daemon.
    public struct Configuration: Sendable {
        /// How often the watchdog's state is looked at. Default 50 ms.
        public var interval: Duration = .milliseconds(50)
        /// How often, while healthy, the marker is checked. Default 1 s.
        public var markerInterval: Duration = .seconds(1)
        /// The pause between two rounds of closing listings that failed. Default 500 ms.
        public var closeRetry: Duration = .milliseconds(500)
        /// How long a recovery waits for queue jobs in flight. Default 30 s.
        public var drainLimit: Duration = .seconds(30)
        /// The pause before a failed recovery step is tried again. Default 2 s.
        public var recoveryRetry: Duration = .seconds(2)

        public init() {}
    }

    /// What the recovery needs besides the watchdog.
    public struct Parts: Sendable {
        public var desk: EventDesk
        public var spool: DeliverySpool
        public var queue: any DeliverySink
        public var marker: RedisMarker
        /// Closes the listings; nil on an instance without workers (another instance closes them).
        public var closer: FailsafeCloser?
        /// Told that Redis is down, so closes go out on the local bucket at once.
        public var throttler: Throttler?
        /// Reconciles every open event against the platforms (after a loss of Redis's data); nil
        /// when this instance cannot (no workers).
        public var reconcile: (@Sendable () async throws -> Void)?

        public init(
            desk: EventDesk, spool: DeliverySpool, queue: any DeliverySink, marker: RedisMarker,
            closer: FailsafeCloser?, throttler: Throttler?, reconcile: (@Sendable () async throws -> Void)?
        ) {
            self.desk = desk
            self.spool = spool
            self.queue = queue
            self.marker = marker
            self.closer = closer
            self.throttler = throttler
            self.reconcile = reconcile
        }
    }

    public let configuration: Configuration
    /// Queue jobs wait here while Redis is down or being rebuilt.
    public nonisolated let workGate: WorkGate
    /// Rebalancing passes wait here during any fail-safe.
    public nonisolated let publishGate: WorkGate
    private let watchdog: RedisWatchdog
    private let parts: Parts
    private let logger: Logger
    private let clock = ContinuousClock()

    /// The fail-safe being handled: when it began (watchdog milliseconds) and the task closing listings.
    private var episode: (since: Int64, closing: Task<Void, Never>)?
    private var lastRecovered = 0
    private var retryAt: ContinuousClock.Instant?
    private var nextMarkerCheck: ContinuousClock.Instant?

    public init(
        watchdog: RedisWatchdog, parts: Parts, workGate: WorkGate, publishGate: WorkGate,
        configuration: Configuration = .init(), logger: Logger
    ) {
        self.watchdog = watchdog
        self.parts = parts
        self.workGate = workGate
        self.publishGate = publishGate
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.step()
                try await Task.sleep(for: self.configuration.interval)
            }
        }
        episode?.closing.cancel()
    }

    /// One look at the watchdog, and what follows from it.
    func step() async {
        switch watchdog.health.state {
        case .healthy, .suspect:
            if episode != nil { leave() }
            await checkMarker()
        case .failsafe(let since, let reason):
            if episode == nil { await enter(since: since, reason: reason) }
            if reason != .manual { workGate.close() }
        case .recovering(let since, let attempt, let rebuilt):
            if episode == nil { await enter(since: since, reason: nil) }
            guard !rebuilt, attempt != lastRecovered, retryAt.map({ clock.now >= $0 }) ?? true else { return }
            await recover(attempt)
        }
    }

    // MARK: Fail-safe

    private func enter(since: Int64, reason: RedisHealth.Reason?) async {
        publishGate.close()
        if reason != .manual {
            workGate.close()
            // Before the first close: its throttle decision must not wait for a Redis that hangs.
            await parts.throttler?.assumeRedisDown()
        }
        Counter(label: "traffic_police_failsafe_entries_total").increment()
        Gauge(label: "traffic_police_failsafe").record(1)
        let passInFlight = publishGate.active > 0
        let closing = Task { [parts, watchdog, configuration, publishGate, logger] in
            guard let closer = parts.closer else { return }
            let targets = await closer.targets()
            var remaining = targets
            while !remaining.isEmpty && !Task.isCancelled {
                remaining = await closer.close(remaining)
                if !remaining.isEmpty { try? await Task.sleep(for: configuration.closeRetry) }
            }
            guard !Task.isCancelled else { return }
            let elapsed = watchdog.milliseconds() - since
            Timer(label: "traffic_police_failsafe_close_seconds").recordMilliseconds(elapsed)
            logger.notice(
                "fail-safe: every listing told to stop selling",
                metadata: ["MODE": "failsafe", "ELAPSED_MS": "\(elapsed)", "LISTINGS": "\(targets.count)"])
            // A rebalancing pass that was under way at the trip may have published after a close.
            if passInFlight, await publishGate.drained(within: .seconds(120)), !Task.isCancelled {
                _ = await closer.close(targets)
            }
        }
        episode = (since, closing)
    }

    private func leave() {
        episode?.closing.cancel()
        episode = nil
        retryAt = nil
        workGate.open()
        publishGate.open()
        Gauge(label: "traffic_police_failsafe").record(0)
        logger.notice("sales reopen: the rebalancer publishes every allocation again", metadata: ["MODE": "open"])
    }

    // MARK: Recovery

    private func recover(_ attempt: Int) async {
        var metadata: Logger.Metadata = ["ATTEMPT": "\(attempt)"]
        workGate.close()
        guard await workGate.drained(within: configuration.drainLimit) else {
            logger.warning("recovery waits for queue jobs still in flight", metadata: metadata)
            retryAt = clock.now + configuration.recoveryRetry
            return
        }
        do {
            // Redis may have been down since the start, before the daemon's first look at the marker.
            let verdict = parts.marker.current == nil ? try await recalled() : try await parts.marker.check()
            metadata["REDIS"] = "\(verdict)"
            let events = try await parts.desk.ledger.events()
            for event in events { try await parts.desk.rebuild(event.id, replacing: true) }
            metadata["EVENTS"] = "\(events.count)"
            let replayed = try await parts.spool.replayCounted(into: parts.queue, logger: logger)
            metadata["SPOOL_RECORDS"] = "\(replayed.replayed)"
            if case .lost(let why) = verdict {
                logger.critical(
                    "Redis lost its data (\(why)): reconciling every open event against the platforms before sales reopen",
                    metadata: metadata)
                if let reconcile = parts.reconcile {
                    try await reconcile()
                } else {
                    logger.warning("this instance cannot reconcile; the nightly reconciliation will", metadata: metadata)
                }
            }
            try await parts.marker.adopt()
            await persistMarker()
            lastRecovered = attempt
            retryAt = nil
            logger.notice("recovery steps done: counters rebuilt from the ledger, spool replayed", metadata: metadata)
            watchdog.recoveryCompleted(attempt: attempt)
        } catch {
            metadata["ERROR"] = "\(error)"
            logger.error("a recovery step failed; it is tried again", metadata: metadata)
            retryAt = clock.now + configuration.recoveryRetry
        }
    }

    // MARK: Marker

    private func checkMarker() async {
        if let next = nextMarkerCheck, clock.now < next { return }
        nextMarkerCheck = clock.now + configuration.markerInterval
        do {
            guard parts.marker.current != nil else {
                try await firstLook()
                return
            }
            if case .lost(let why) = try await parts.marker.check() {
                logger.critical("Redis lost its data (\(why)): fail-safe until it is rebuilt and reconciled")
                watchdog.reportDataLoss()
                return
            }
            await persistMarker()
        } catch {
            return  // Redis not answering is the watchdog's business.
        }
    }

    /// The daemon's first look at the marker: against the stamp the ledger kept from the last daemon
    /// (a loss while no daemon ran), then adopted.
    private func firstLook() async throws {
        if case .lost(let why) = try await recalled() {
            logger.critical(
                "Redis lost its data while no daemon watched it (\(why)): fail-safe until it is rebuilt and reconciled")
            watchdog.reportDataLoss()
            return
        }
        try await parts.marker.adopt()
        await persistMarker()
    }

    /// What Redis shows judged against the ledger's stamp; `.intact` (and a warning) when the ledger
    /// cannot say.
    private func recalled() async throws -> RedisLoss.Verdict {
        do {
            return try await parts.marker.recall()
        } catch let error as RedisMarker.MemoryError {
            memoryUnavailable(error)
            return .intact
        }
    }

    /// Stores the adopted marker in the ledger; a failure is logged (once) and tried again each second.
    private func persistMarker() async {
        do {
            try await parts.marker.persist()
        } catch let error as RedisMarker.MemoryError {
            memoryUnavailable(error)
        } catch {
            return
        }
    }

    private var memoryWarned = false

    /// Logged once: the ledger cannot keep the marker (not migrated, or down), so a loss of Redis's
    /// data while no daemon runs would go unnoticed until the nightly reconciliation.
    private func memoryUnavailable(_ error: RedisMarker.MemoryError) {
        guard !memoryWarned else { return }
        memoryWarned = true
        logger.warning(
            "cannot keep the Redis marker in the ledger (run traffic-police migrate?): a loss of Redis's data while no daemon runs would go unnoticed at the next start",
            metadata: ["ERROR": "\(error)"])
    }
}
