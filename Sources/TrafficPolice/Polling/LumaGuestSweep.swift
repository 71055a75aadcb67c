import Foundation
import Logging
import Metrics
import PlatformClients
import RedisBridge
import ServiceLifecycle
import TrafficPoliceCore

/// The periodic Luma guest-list sweep: catches what dropped webhooks missed.
///
/// Every `interval` (plus a random jitter), for every event linked to Luma: take the event's sweep
/// lock in Redis (one instance sweeps an event at a time), read the ledger's Luma orders, then read
/// every guest through the throttled client in the reconciliation lane (Luma has no `updated_at`:
/// a full re-pull, platforms.md 2.3), compare (``LumaSweepPlan``) and enqueue each correction as a
/// `guest.updated` job that the workers apply like a webhook. The ledger is read before the guests,
/// so a webhook applied meanwhile makes a correction a harmless repeat, never a stale one.
///
/// Idle (until shutdown) when the gateway has no Luma client. On graceful shutdown the wait or the
/// sweep in progress is cancelled and `run()` returns; corrections already enqueued stay queued.
public struct LumaGuestSweep: Service {
    /// When and how much to sweep. Every field has a default suited to the daemon.
    public struct Configuration: Sendable {
        /// Time between two passes over every Luma-linked event. Default 5 min.
        public var interval: Duration = .seconds(300)
        /// Wait before the first pass (the daemon starts without a burst of Luma calls). Default 30 s.
        public var initialDelay: Duration = .seconds(30)
        /// Up to this much is added at random to every wait, so instances started together drift apart. Default 30 s.
        public var jitter: Duration = .seconds(30)
        /// After a pass in which an event could not be swept, the next pass comes after this instead of
        /// `interval`. Default 60 s.
        public var errorBackoff: Duration = .seconds(60)
        /// `pagination_limit` of each guest-list call (Luma enforces its own maximum). Default 100.
        public var pageSize: Int = 100
        /// Pages read per event per pass at most; a longer list is swept in part (its missing
        /// orders and releases are still applied, ledger orders Luma did not list are not judged). Default 200.
        public var maxPages: Int = 200
        /// The event lock's lifetime, renewed after every page; it lapses if this instance dies mid-sweep. Default 2 min.
        public var lockTTL: Duration = .seconds(120)
        /// Prefix of the per-event lock keys. Default `tp:luma-sweep:lock`.
        public var lockKeyPrefix: String = "tp:luma-sweep:lock"

        public init() {}
    }

    /// What one event's sweep found and did.
    public struct EventReport: Sendable, Hashable {
        public var event: EventID
        public var lumaEventID: String
        public var guests: Int
        public var pages: Int
        /// Whether every page was read.
        public var complete: Bool
        /// Jobs added to the queue (corrections not already pending under the same dedupe key).
        public var enqueued: [LumaSweepPlan.Correction]
        /// Corrections whose job was still pending (same dedupe key).
        public var alreadyQueued: Int
        public var drifts: [LumaSweepPlan.Drift]
    }

    /// One pass: the events swept, those another instance was sweeping, and those that failed.
    public struct PassReport: Sendable {
        public var swept: [EventReport] = []
        public var lockedElsewhere: [EventID] = []
        public var failed: [EventID: String] = [:]
    }

    public let configuration: Configuration
    private let gateway: PlatformGateway
    private let desk: EventDesk
    private let queue: any DeliverySink
    private let logger: Logger

    /// - Parameters:
    ///   - gateway: the Luma client comes from `gateway.luma(.reconciliation)`.
    ///   - desk: the ledger to compare with; its Redis client also holds the sweep locks.
    ///   - queue: where corrections go (the daemon's ``DeliveryQueue``).
    public init(
        gateway: PlatformGateway, desk: EventDesk, queue: any DeliverySink, configuration: Configuration = .init(),
        logger: Logger? = nil
    ) {
        self.gateway = gateway
        self.desk = desk
        self.queue = queue
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "traffic-police.luma-sweep")
    }

    /// When the next pass comes and what it sweeps (pure): after a pass in which some events failed,
    /// only those, after `errorBackoff` — unless the next full pass, `interval` after the last one,
    /// comes first.
    public struct Schedule: Sendable, Hashable {
        public struct Next: Sendable, Hashable {
            /// The events to sweep again; nil for a full pass.
            public var retry: Set<EventID>?
            public var wait: Duration
        }

        public var interval: Duration
        public var errorBackoff: Duration

        public func next(failed: Set<EventID>, sinceFullPass: Duration) -> Next {
            let untilFullPass = max(.zero, interval - sinceFullPass)
            if !failed.isEmpty && errorBackoff < untilFullPass { return Next(retry: failed, wait: errorBackoff) }
            return Next(retry: nil, wait: untilFullPass)
        }
    }

    /// Whether the sweep can call Luma (a `luma-api-key` credential is configured).
    public var isEnabled: Bool { gateway.luma(.reconciliation) != nil }

    public func run() async throws {
        guard isEnabled else {
            logger.info("no Luma API credential: the guest sweep stays idle")
            try? await gracefulShutdown()
            return
        }
        logger.info(
            "Luma guest sweep started",
            metadata: ["INTERVAL": "\(configuration.interval)", "PAGE_SIZE": "\(configuration.pageSize)"])
        var wait = configuration.initialDelay
        // After a pass in which some events failed, only those are swept again after `errorBackoff`
        // (a Luma event id that no longer exists costs one request then, not a whole pass).
        var retry: Set<EventID>? = nil
        var lastFullPass = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { [wait, jitter = configuration.jitter] in
                    try await Task.sleep(for: wait + Self.random(upTo: jitter))
                }
            } catch {
                break
            }
            let pass: PassReport
            do {
                pass = try await cancelWhenGracefulShutdown { [retry] in try await sweepOnce(only: retry) }
            } catch is CancellationError {
                break
            } catch {
                logger.warning("the Luma guest sweep failed; trying again", metadata: ["ERROR": "\(error)"])
                Counter(label: "traffic_police_luma_sweep_passes_total", dimensions: [("result", "failed")]).increment()
                wait = configuration.errorBackoff
                continue
            }
            if retry == nil { lastFullPass = ContinuousClock.now }
            let failed = Set(pass.failed.keys)
            Counter(
                label: "traffic_police_luma_sweep_passes_total", dimensions: [("result", failed.isEmpty ? "ok" : "partial")]
            ).increment()
            let next = Schedule(interval: configuration.interval, errorBackoff: configuration.errorBackoff)
                .next(failed: failed, sinceFullPass: ContinuousClock.now - lastFullPass)
            retry = next.retry
            wait = next.wait
        }
        logger.info("Luma guest sweep stopped")
    }

    /// One pass over every event linked to Luma (or only those in `only`). Throws only when the ledger
    /// cannot list the events; an event that fails is reported in ``PassReport/failed`` and the others
    /// are still swept.
    public func sweepOnce(only: Set<EventID>? = nil) async throws -> PassReport {
        var pass = PassReport()
        for (event, lumaEventID) in try await lumaLinkedEvents() where only?.contains(event) ?? true {
            try Task.checkCancellation()
            do {
                if let report = try await sweep(event: event, lumaEventID: lumaEventID) {
                    pass.swept.append(report)
                } else {
                    pass.lockedElsewhere.append(event)
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                pass.failed[event] = "\(error)"
                Counter(label: "traffic_police_luma_sweeps_total", dimensions: [("result", "failed")]).increment()
                logger.warning(
                    "cannot sweep the event's Luma guests",
                    metadata: ["EVENT_ID": "\(event)", "PLATFORM": "luma", "ERROR": "\(error)"])
            }
        }
        return pass
    }

    /// Sweeps one event under its lock; nil when another instance holds the lock.
    public func sweep(event: EventID, lumaEventID: String) async throws -> EventReport? {
        guard let client = gateway.luma(.reconciliation) else { throw LumaSweepError.noClient }
        let lock = SweepLock(
            redis: desk.reservations.redis, key: "\(configuration.lockKeyPrefix):\(event.rawValue)",
            ttl: configuration.lockTTL)
        guard try await lock.acquire() else {
            Counter(label: "traffic_police_luma_sweeps_total", dimensions: [("result", "locked_elsewhere")]).increment()
            logger.debug("another instance is sweeping the event", metadata: ["EVENT_ID": "\(event)"])
            return nil
        }
        do {
            let report = try await sweepLocked(event: event, lumaEventID: lumaEventID, client: client, lock: lock)
            await lock.release()
            return report
        } catch {
            await lock.release()
            throw error
        }
    }

    private func sweepLocked(event: EventID, lumaEventID: String, client: LumaClient, lock: SweepLock) async throws
        -> EventReport
    {
        let started = ContinuousClock.now
        // The ledger first: see the type's documentation.
        let orders = try await desk.ledger.orders(event)
        var guests: [LumaSweepPlan.Guest] = []
        var cursor: String?
        var pages = 0
        var complete = false
        while pages < max(1, configuration.maxPages) {
            try Task.checkCancellation()
            let page = try await client.guests(
                eventID: lumaEventID, cursor: cursor, limit: max(1, configuration.pageSize))
            pages += 1
            guests += page.entries.map {
                LumaSweepPlan.Guest(id: $0.id, approvalStatus: $0.approvalStatus.rawValue, ticketIDs: $0.eventTickets.map(\.id))
            }
            guard page.hasMore else {
                complete = true
                break
            }
            guard let next = page.nextCursor, !next.isEmpty else {
                throw PlatformCallError.malformedResponse(field: "next_cursor", why: "missing while has_more is true")
            }
            cursor = next
            guard try await lock.renew() else { throw LumaSweepError.lockLost(event) }
        }
        let plan = LumaSweepPlan(guests: guests, orders: orders, complete: complete)
        var report = EventReport(
            event: event, lumaEventID: lumaEventID, guests: plan.guestsCompared, pages: pages, complete: complete,
            enqueued: [], alreadyQueued: 0, drifts: plan.drifts)
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        for correction in plan.corrections {
            let metadata: Logger.Metadata = [
                "EVENT_ID": "\(event)", "PLATFORM": "luma", "ORDER_ID": "\(correction.guest.id)",
                "REASON": "\(correction.reason.rawValue)", "APPROVAL_STATUS": "\(correction.guest.approvalStatus)",
                "TICKETS": "\(correction.guest.ticketIDs.count)",
            ]
            switch try await queue.enqueue(correction.delivery(lumaEventID: lumaEventID, receivedAtMilliseconds: now)) {
            case .enqueued(let jobID):
                report.enqueued.append(correction)
                Counter(label: "traffic_police_luma_sweep_corrections_total", dimensions: [("reason", correction.reason.rawValue)])
                    .increment()
                logger.notice("the Luma sweep queued a correction", metadata: metadata.merging(["JOB_ID": "\(jobID)"]) { $1 })
            case .duplicate:
                report.alreadyQueued += 1
            }
        }
        for drift in plan.drifts {
            Counter(label: "traffic_police_luma_sweep_drift_total", dimensions: [("kind", drift.kind)]).increment()
            logger.warning(
                "Luma and the ledger disagree in a way a replay cannot fix: \(drift)",
                metadata: ["EVENT_ID": "\(event)", "PLATFORM": "luma", "ORDER_ID": "\(drift.guestID)", "DRIFT": "\(drift.kind)"])
        }
        if !complete {
            logger.warning(
                "the Luma guest list is longer than max_pages: swept in part",
                metadata: ["EVENT_ID": "\(event)", "PAGES": "\(pages)"])
        }
        Counter(label: "traffic_police_luma_sweeps_total", dimensions: [("result", complete ? "ok" : "partial")]).increment()
        Timer(label: "traffic_police_luma_sweep_seconds").recordInterval(since: started)
        logger.info(
            "swept the event's Luma guests",
            metadata: [
                "EVENT_ID": "\(event)", "PLATFORM": "luma", "GUESTS": "\(report.guests)", "PAGES": "\(pages)",
                "ENQUEUED": "\(report.enqueued.count)", "ALREADY_QUEUED": "\(report.alreadyQueued)",
                "DRIFTS": "\(report.drifts.count)",
            ])
        return report
    }

    /// Every event whose Luma listing is linked, with the Luma event id.
    private func lumaLinkedEvents() async throws -> [(EventID, String)] {
        var linked: [(EventID, String)] = []
        for event in try await desk.ledger.events() {
            if let lumaEventID = try await desk.ledger.listings(event.id)[.luma]?.platformEventID {
                linked.append((event.id, lumaEventID))
            }
        }
        return linked
    }

    private static func random(upTo limit: Duration) -> Duration {
        let micros = limit.components.seconds * 1_000_000 + limit.components.attoseconds / 1_000_000_000_000
        guard micros > 0 else { return .zero }
        return .microseconds(Int64.random(in: 0...micros))
    }
}

/// Why an event's sweep stopped.
public enum LumaSweepError: Error, Sendable, CustomStringConvertible {
    /// The gateway has no Luma client (no `luma-api-key`).
    case noClient
    /// The event's lock lapsed mid-sweep (another instance may have taken it): the rest is left to it.
    case lockLost(EventID)

    public var description: String {
        switch self {
        case .noClient: "no Luma API credential"
        case .lockLost(let event): "the sweep lock of event \(event) lapsed mid-sweep"
        }
    }
}

extension Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        record(duration: start.duration(to: .now))
    }
}
