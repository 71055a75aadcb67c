import Foundation
import Logging
import PlatformClients
import TrafficPoliceCore

/// The nightly reconciliation (DESIGN.md sections 4 and 6, `traffic-police reconcile`): reads every
/// order, guest and RSVP of each linked platform through the throttled clients in the
/// reconciliation lane, compares them with the ledger (``ReconciliationDiff``) and, unless it is a
/// dry run, applies the platform's current state of each drifting order the way the queue workers
/// apply an order (`EventDesk.apply`, `amend` or `release`: the reservation step decides
/// accepted, absorbed or overbooked and the ledger records it; every step idempotent, G3; what
/// nothing covers goes to ``OverbookedOrders``, as from a worker).
///
/// Per event it holds the event's lock (``EventLock``, the rebalancer's), renewed while it works,
/// so no rebalancing pass runs on the event meanwhile. The ledger's orders are read before the
/// platform's, so an order a webhook applies meanwhile makes a fix a harmless repeat, never a
/// stale one. A platform that cannot be read is recorded as unreadable (that platform is not
/// fixed) and the rest goes on; one row per event is written to `reconciliations`, and a summary
/// per event and platform is logged (notice: `EVENT_ID=`, `PLATFORM=`, `DRIFT=`, `FIXED=`).
public struct Reconciler: Sendable {
    /// Limits and the lock. Every field has a default suited to a nightly run.
    public struct Configuration: Sendable {
        /// Orders, guests or RSVPs per page. Default 100 (Meetup: no more than a page whose point
        /// cost the throttler's reconciliation lane can admit at once).
        public var pageSize: Int = 100
        /// Pages read per platform and event at most; a longer list makes the platform unreadable
        /// (a partial list would hide drift). Default 1000.
        public var maxPages: Int = 1000
        /// The Meetup RSVP statuses read (the query's own default is YES and ATTENDED only).
        public var meetupStatuses: [MeetupRsvpStatus] = [.yes, .attended, .waitlist, .no]
        /// The event lock's lifetime; it is renewed every third of it while the event is worked on. Default 60 s.
        public var lockTTL: Duration = .seconds(60)
        /// How long to wait for an event's lock held by a rebalancing pass. Default 60 s.
        public var lockWait: Duration = .seconds(60)
        /// Time between two attempts to take a held lock. Default 250 ms.
        public var lockRetry: Duration = .milliseconds(250)
        /// Attempts to read one platform's list when it fails with a retryable error or a rate limit
        /// (each attempt reads the whole list again). Default 3.
        public var readAttempts = 3
        /// Wait before the second attempt, doubled before each next one (the throttler also holds
        /// the call while the platform is paused). Default 5 s.
        public var readRetryDelay: Duration = .seconds(5)
        /// Whether an order the fix finds overbooked is acted on as the workers do
        /// (``OverbookedOrders``: a Luma guest holding nothing is moved to the waitlist, the rest
        /// flagged in the ledger); false only logs it. Default true.
        public var actsOnOverbooked = true
        /// Whether each event's reconciliation is written to the ledger (`reconciliations`). Default true.
        public var recordsRuns = true

        public init() {}
    }

    public let desk: EventDesk
    public let gateway: PlatformGateway
    public let locks: EventLock
    public let configuration: Configuration
    let logger: Logger

    public init(
        desk: EventDesk, gateway: PlatformGateway, locks: EventLock, configuration: Configuration = .init(),
        logger: Logger
    ) {
        self.desk = desk
        self.gateway = gateway
        self.locks = locks
        self.configuration = configuration
        self.logger = logger
    }

    /// Reconciles `event` (nil: every event with a linked platform that is not closed). Throws only
    /// when the ledger or Redis fails (or `event` does not exist); platforms that cannot be read
    /// and events whose lock cannot be had are recorded in the run.
    public func reconcile(event: EventID?, dryRun: Bool) async throws -> ReconcileRun {
        let started = Date()
        var events: [EventID] = []
        if let event {
            guard try await desk.ledger.event(event) != nil else { throw LedgerError.eventNotFound(event) }
            events = [event]
        } else {
            for record in try await desk.ledger.events() where record.mode != .closed {
                if try await desk.ledger.listings(record.id).values.contains(where: \.isLinked) {
                    events.append(record.id)
                }
            }
        }
        var results: [EventReconciliation] = []
        for id in events {
            try Task.checkCancellation()
            let result = try await reconcileLocked(id, dryRun: dryRun)
            if configuration.recordsRuns { try await desk.ledger.recordReconciliation(result, dryRun: dryRun) }
            log(result, dryRun: dryRun)
            results.append(result)
        }
        return ReconcileRun(dryRun: dryRun, startedAt: started, finishedAt: Date(), events: results)
    }

    // MARK: - One event

    /// Takes the event's lock (waiting up to `lockWait`), reconciles under it, frees it.
    private func reconcileLocked(_ event: EventID, dryRun: Bool) async throws -> EventReconciliation {
        let started = Date()
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.lockWait
        var lease = try await locks.acquire(event, ttl: configuration.lockTTL)
        while lease == nil && clock.now < deadline {
            try await Task.sleep(for: configuration.lockRetry)
            lease = try await locks.acquire(event, ttl: configuration.lockTTL)
        }
        guard let lease else {
            return EventReconciliation(
                event: event, startedAt: started, finishedAt: Date(), platforms: [],
                failure: "its lock is held elsewhere (a rebalancing pass or another reconcile) past \(configuration.lockWait)")
        }
        do {
            let platforms = try await whileHolding(lease) { try await reconcile(event, dryRun: dryRun) }
            try await locks.release(lease)
            return EventReconciliation(event: event, startedAt: started, finishedAt: Date(), platforms: platforms)
        } catch ReconcileLockLost.lost {
            return EventReconciliation(
                event: event, startedAt: started, finishedAt: Date(), platforms: [],
                failure: "its lock lapsed while it was reconciled; fixes applied until then stand")
        } catch {
            _ = try? await locks.release(lease)
            throw error
        }
    }

    /// Runs `body` while a child task renews the lease every third of its ttl; a lease that cannot
    /// be renewed cancels `body` and throws ``ReconcileLockLost/lost``.
    private func whileHolding<T: Sendable>(_ lease: EventLock.Lease, _ body: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        let locks = self.locks
        let every = lease.ttl / 3
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while true {
                    try await Task.sleep(for: every)
                    guard (try? await locks.renew(lease)) == true else { throw ReconcileLockLost.lost }
                }
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
            }
            throw ReconcileLockLost.lost
        }
    }

    /// Every linked platform of the event: read, compare, fix.
    private func reconcile(_ event: EventID, dryRun: Bool) async throws -> [PlatformReconciliation] {
        let listings = try await desk.ledger.listings(event)
        // The ledger first: see the type's documentation.
        let ledger = try await desk.ledger.orders(event)
        var results: [PlatformReconciliation] = []
        for platform in Platform.allCases {
            guard let platformEventID = listings[platform]?.platformEventID else { continue }
            try Task.checkCancellation()
            let states: [PlatformOrderState]
            do {
                states = try await readRetrying(platform, platformEventID: platformEventID)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                results.append(
                    PlatformReconciliation(
                        platform: platform, platformEventID: platformEventID,
                        ledgerOrders: ledger.count(where: { $0.channel == .platform(platform) }), unreadable: "\(error)"))
                continue
            }
            let diff = ReconciliationDiff(platform: platform, platformOrders: states, ledger: ledger)
            var result = PlatformReconciliation(
                platform: platform, platformEventID: platformEventID, ordersRead: diff.ordersRead,
                ledgerOrders: diff.ledgerOrders, drift: diff.drift, remaining: diff.drift,
                overbooked: diff.overbooked.count)
            if !dryRun && !diff.fixes.isEmpty {
                for (drift, fix) in diff.fixes {
                    try Task.checkCancellation()
                    try await apply(fix, drift: drift, event: event, platform: platform)
                }
                let after = ReconciliationDiff(
                    platform: platform, platformOrders: states, ledger: try await desk.ledger.orders(event))
                let left = Set(after.drift.map(\.orderID))
                result.remaining = after.drift
                result.fixed = diff.drift.count(where: { !left.contains($0.orderID) })
                result.overbooked = after.overbooked.count
            }
            results.append(result)
        }
        return results
    }

    /// Applies the platform's state of one drifting order through the workers' path.
    private func apply(_ fix: OrderDrift.Fix, drift: OrderDrift, event: EventID, platform: Platform) async throws {
        var metadata: Logger.Metadata = [
            "EVENT_ID": "\(event)", "PLATFORM": "\(platform.rawValue)", "ORDER_ID": "\(drift.orderID)",
            "DRIFT": "\(drift.kind.rawValue)",
        ]
        do {
            switch fix {
            case .reserve(let quantity):
                let result = try await desk.apply(
                    event: event, platform: platform, orderID: drift.orderID, quantity: quantity, source: .reconcile)
                metadata["OUTCOME"] = "\(result.outcome.rawValue)"
                if result.outcome == .overbooked && !result.duplicate {
                    await overbooked(event: event, platform: platform, orderID: drift.orderID, quantity: quantity, held: 0)
                }
            case .amend(let quantity, let version):
                let result = try await desk.amend(
                    event: event, platform: platform, orderID: drift.orderID, quantity: quantity, version: version,
                    source: .reconcile)
                metadata["OUTCOME"] = "\(result.summary)"
                if result.change == .refused {
                    await overbooked(
                        event: event, platform: platform, orderID: drift.orderID, quantity: result.order.target,
                        held: result.quantity)
                }
            case .release:
                let result = try await desk.release(
                    event: event, platform: platform, orderID: drift.orderID, source: .reconcile)
                metadata["OUTCOME"] = "\(result.rawValue)"
            }
            logger.info("reconciliation applied the platform's state of an order", metadata: metadata)
        } catch let error as DomainError {
            metadata["ERROR"] = "\(error.message)"
            logger.warning("reconciliation could not apply the platform's state of an order", metadata: metadata)
        }
    }

    /// An order the fix found nothing covers: handed to ``OverbookedOrders`` as the workers do
    /// (a Luma guest holding nothing goes to the waitlist, the rest is flagged), or only logged.
    private func overbooked(event: EventID, platform: Platform, orderID: String, quantity: Int, held: Int) async {
        guard configuration.actsOnOverbooked else {
            logger.error(
                "overbooked: reconciliation found tickets nothing covers; the order must be cancelled or moved to the waitlist",
                metadata: [
                    "EVENT_ID": "\(event)", "PLATFORM": "\(platform.rawValue)", "ORDER_ID": "\(orderID)",
                    "QUANTITY": "\(quantity)", "HELD": "\(held)",
                ])
            return
        }
        await OverbookedOrders(ledger: desk.ledger, gateway: gateway, logger: logger).handle(
            event: event, platform: platform, orderID: orderID, quantity: quantity, held: held)
    }

    private func log(_ result: EventReconciliation, dryRun: Bool) {
        for platform in result.platforms {
            var metadata: Logger.Metadata = [
                "EVENT_ID": "\(result.event)", "PLATFORM": "\(platform.platform.rawValue)",
                "PLATFORM_EVENT_ID": "\(platform.platformEventID)", "READ": "\(platform.ordersRead)",
                "DRIFT": "\(platform.drift.count)", "FIXED": "\(platform.fixed)",
                "REMAINING": "\(platform.remaining.count)", "DRY_RUN": "\(dryRun)",
            ]
            if let why = platform.unreadable {
                metadata["UNREADABLE"] = "\(why)"
                logger.warning("reconcile could not read the platform", metadata: metadata)
            } else {
                logger.notice("reconciled the event's orders on the platform", metadata: metadata)
            }
        }
        var metadata: Logger.Metadata = [
            "EVENT_ID": "\(result.event)", "DRIFT": "\(result.driftFound)", "FIXED": "\(result.fixed)",
            "REMAINING": "\(result.remaining)", "OUTCOME": "\(result.outcome.rawValue)", "DRY_RUN": "\(dryRun)",
        ]
        if let failure = result.failure { metadata["FAILURE"] = "\(failure)" }
        logger.notice("reconciled the event", metadata: metadata)
    }
}

/// The event's lock lapsed while it was reconciled.
enum ReconcileLockLost: Error {
    case lost
}
