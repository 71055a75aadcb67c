import Foundation
import Logging
import Metrics
import PlatformClients
import ServiceLifecycle
import TrafficPoliceCore

/// Meetup sends no webhooks, so its RSVPs are polled (DESIGN.md section 4) and fed into the same
/// queue as webhook deliveries: a swift-service-lifecycle `Service`.
///
/// For every event linked to Meetup in the ledger it reads RSVPs newest-updated first through the
/// gateway (lane `orderLookup`, so the throttler keeps it within Meetup's points), picks out what
/// changed since the last read (``RSVPChangeTracker``) and enqueues one job per change:
/// ``MeetupRSVPDelivery`` (kind `rsvp`, dedupe key `meetup:` + fingerprint). When and how much to
/// read is decided by ``MeetupPollSchedule`` (pure): intervals and pages from ``MeetupPollPlanner``
/// fed with each event's velocity, an idle event at least every 30 s, a failed poll backed off and
/// nothing it did not enqueue forgotten.
///
/// Without Meetup credentials (the gateway has no Meetup client) it only waits for shutdown. On
/// graceful shutdown the poll in progress is cancelled and `run()` returns at once; anything it had
/// not enqueued is read again by the next daemon (its first read reports every RSVP; the queue
/// dedupes what was already accepted).
public struct MeetupPoller: Service {
    /// How the poller reads. Every field has a default suited to the daemon.
    public struct Configuration: Sendable {
        /// Intervals, page sizes, points, pages per poll and error backoff (see
        /// ``MeetupPollSchedule/Configuration``): by default 300 points a minute, 2…30 s between
        /// polls of one event, pages of 5…50, at most 4 pages a poll, backoff 1 s doubling to 30 s,
        /// velocities over 60 s.
        public var schedule = MeetupPollSchedule.Configuration()
        /// The RSVP statuses read. Default YES, WAITLIST and NO (the query's own default is YES and
        /// ATTENDED only, which would hide cancellations).
        public var statuses: [MeetupRsvpStatus] = MeetupCalls.defaultStatuses
        /// How often the ledger's Meetup links are read again. Default 10 s.
        public var linkRefresh: Duration = .seconds(10)

        public init() {}
    }

    public let gateway: PlatformGateway
    public let sink: any DeliverySink
    public let configuration: Configuration
    /// Beats every time the poll loop goes round (a liveness probe may watch it).
    public let heartbeat = Heartbeat()
    private let links: @Sendable () async throws -> Set<String>
    private let logger: Logger
    private let ready: @Sendable () async -> Void

    /// Polls every event linked to Meetup in `ledger`.
    /// - Parameters:
    ///   - sink: where jobs go (the ``DeliveryQueue``).
    ///   - ready: awaited before the first poll (the daemon passes its readiness).
    public init(
        gateway: PlatformGateway, ledger: Ledger, sink: any DeliverySink, configuration: Configuration = .init(),
        logger: Logger? = nil, ready: @escaping @Sendable () async -> Void = {}
    ) {
        self.init(
            gateway: gateway, links: { Set(try await ledger.links(on: .meetup).keys) }, sink: sink,
            configuration: configuration, logger: logger, ready: ready)
    }

    /// Polls the Meetup events `links` returns (read again every `linkRefresh`).
    public init(
        gateway: PlatformGateway, links: @escaping @Sendable () async throws -> Set<String>, sink: any DeliverySink,
        configuration: Configuration = .init(), logger: Logger? = nil, ready: @escaping @Sendable () async -> Void = {}
    ) {
        self.gateway = gateway
        self.links = links
        self.sink = sink
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "traffic-police.meetup-poller")
        self.ready = ready
    }

    public func run() async throws {
        guard let client = gateway.meetup(.orderLookup) else {
            logger.info("Meetup is not enabled: its RSVPs are not polled")
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown { [ready] in
            await ready()
            try Task.checkCancellation()
            await pollLoop(client)
        }
    }

    /// Polls until cancelled (graceful shutdown cancels it).
    private func pollLoop(_ client: MeetupClient) async {
        let clock = ContinuousClock()
        let start = clock.now
        let now = { () -> Int64 in Self.milliseconds(start.duration(to: clock.now)) }
        var schedule = MeetupPollSchedule(configuration: configuration.schedule)
        let refresh = max(1, Self.milliseconds(configuration.linkRefresh))
        var nextRefresh = Int64.min
        var overBudget = false
        logger.info("Meetup poller started")
        while !Task.isCancelled {
            heartbeat.beat()
            if now() >= nextRefresh {
                do {
                    schedule.sync(linked: try await links(), now: now())
                } catch is CancellationError {
                    break
                } catch {
                    logger.warning("cannot read the Meetup links; keeping the last ones", metadata: ["ERROR": "\(error)"])
                }
                nextRefresh = now() + refresh
            }
            if let next = schedule.next(), next.dueAt <= now() {
                await poll(next.eventID, client: client, schedule: &schedule, now: now)
                if schedule.plan.overBudget != overBudget {
                    overBudget = schedule.plan.overBudget
                    if overBudget {
                        logger.warning("Meetup polling is over its points budget: idle events are read less often than the longest interval")
                    }
                }
                continue
            }
            let wake = min(schedule.next()?.dueAt ?? nextRefresh, nextRefresh)
            let delay = max(1, wake - now())
            do {
                try await Task.sleep(for: .milliseconds(delay))
            } catch {
                break
            }
        }
        logger.info("Meetup poller stopped")
    }

    /// One poll of one event: pages through the pass, enqueueing each change; settles the pass.
    private func poll(
        _ eventID: String, client: MeetupClient, schedule: inout MeetupPollSchedule, now: () -> Int64
    ) async {
        guard var pass = schedule.pass(for: eventID) else { return }
        var metadata: Logger.Metadata = ["PLATFORM": "meetup", "MEETUP_EVENT_ID": "\(eventID)"]
        var enqueued = 0
        do {
            while let cursor = pass.nextRead {
                let page = try await client.rsvps(
                    eventID: eventID, after: cursor.after, first: pass.pageSize, statuses: configuration.statuses)
                let changes = pass.received(
                    page.rsvps.map(MeetupRSVP.init), hasNextPage: page.hasNextPage, endCursor: page.endCursor)
                let receivedAt = Int64((Date().timeIntervalSince1970 * 1000).rounded())
                for rsvp in changes {
                    let job = MeetupRSVPDelivery(meetupEventID: eventID, rsvp: rsvp)
                    if case .enqueued = try await sink.enqueue(job.delivery(receivedAtMilliseconds: receivedAt)) {
                        enqueued += 1
                    }
                    pass.enqueued(rsvp)
                }
            }
            schedule.finish(pass, now: now())
            Counter(label: "traffic_police_meetup_polls_total", dimensions: [("result", "ok")]).increment()
            if enqueued > 0 || pass.rescan != nil {
                metadata["JOBS"] = "\(enqueued)"
                metadata["PAGES"] = "\(pass.pagesRead)"
                if pass.rescan != nil { metadata["RESCAN"] = "pending" }
                logger.debug("polled Meetup RSVPs", metadata: metadata)
            }
        } catch {
            pass.failed()
            schedule.fail(pass, now: now())
            Counter(label: "traffic_police_meetup_polls_total", dimensions: [("result", "failed")]).increment()
            guard !(error is CancellationError) && !Task.isCancelled else { return }
            metadata["ERROR"] = "\(error)"
            metadata["JOBS"] = "\(enqueued)"
            if let state = schedule.events[eventID] {
                metadata["RETRY_IN_MS"] = "\(max(0, state.dueAt - now()))"
            }
            logger.warning("a Meetup poll failed; it backs off and reads again", metadata: metadata)
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
