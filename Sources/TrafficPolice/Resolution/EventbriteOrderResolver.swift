import Foundation
import Logging
import Metrics
import PlatformClients
import ServiceLifecycle
import TrafficPoliceCore

/// Resolves the orders of parked Eventbrite deliveries in batches (issue: calls per order ≤ 0.05).
///
/// Every `interval` it looks at the parked Eventbrite deliveries (``EventbriteOrderDelivery`` parks
/// a delivery whose order it does not know). New orders wait for one batched read per linked event —
/// `GET /events/{id}/orders/?changed_since=…&last_item_seen=…&expand=attendees`, all pages — which
/// returns every order placed since the previous read, so the deliveries that arrived meanwhile are
/// coalesced into it. Changes to older orders, and orders still unseen a while after their delivery
/// (Eventbrite's reads lag its writes), are read one by one (``OrderResolutionPlan``). What it read
/// goes into ``EventbriteOrderCache``; the deliveries it answers go back to the workers.
///
/// Every order a batched read returns is also queued as if its `order.placed` ping had arrived
/// (same dedupe key as the ping, so whichever comes second is a duplicate): an order whose webhook
/// Eventbrite dropped still reaches the ledger. With nothing parked, each linked event is still read
/// every `idleReadInterval`, so the last orders of a drop are not left to the nightly reconcile.
///
/// Refunds and cancellations of older orders arrive as their own webhooks; in case one is lost,
/// every `idleReadInterval` each event's orders that stopped attending since the last such read
/// (`status=inactive`, a short list) are read too and queued as `order.updated` pings.
///
/// One instance resolves at a time (a Redis lock renewed every round); calls go through the
/// throttler in the order look-up lane.
public struct EventbriteOrderResolver: Service {
    public struct Configuration: Sendable {
        /// How often the parked deliveries are looked at. Default 250 ms.
        public var interval: Duration = .milliseconds(250)
        /// Batched reads of one event at most this often. Default 1 s.
        public var minReadInterval: Duration = .seconds(1)
        /// With no delivery waiting, the events are still read this often. Default 60 s.
        public var idleReadInterval: Duration = .seconds(60)
        /// How far back the first read of an event looks. Default 24 h.
        public var lookback: Duration = .seconds(86_400)
        /// Parked deliveries looked at per round, oldest first. Default 5,000.
        public var maxParked: Int = 5_000
        /// Pages one batched read may take. Default 100.
        public var maxPages: Int = 100
        /// A single-order read is not repeated for the same order sooner than this. Default 10 s.
        public var directRetry: Duration = .seconds(10)
        /// When single-order reads start, and how many per round.
        public var plan = OrderResolutionPlan.Configuration()

        public init() {}
    }

    public let configuration: Configuration
    private let queue: DeliveryQueue
    private let delivery: EventbriteOrderDelivery
    private let client: EventbriteClient
    private let ledger: Ledger
    private let logger: Logger

    public init(
        queue: DeliveryQueue, delivery: EventbriteOrderDelivery, client: EventbriteClient, ledger: Ledger,
        configuration: Configuration = .init(), logger: Logger
    ) {
        self.queue = queue
        self.delivery = delivery
        self.client = client
        self.ledger = ledger
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        var state = RoundState(token: UUID().uuidString)
        let lockMilliseconds = max(5_000, Self.milliseconds(configuration.interval) * 20)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if try await delivery.cache.lock(token: state.token, milliseconds: lockMilliseconds) {
                    // A round may wait long in the throttler (Eventbrite allows a call every 2 s):
                    // graceful shutdown cancels it; what it had not done is done by the next start.
                    state = try await cancelWhenGracefulShutdown { [state] in try await self.round(state) }
                }
            } catch is CancellationError {
                break
            } catch {
                logger.warning("Eventbrite order resolution failed; trying again", metadata: ["ERROR": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { [interval = configuration.interval] in
                try await Task.sleep(for: interval)
            }
        }
        try? await delivery.cache.unlock(token: state.token)
    }

    /// What the resolver remembers between rounds.
    struct RoundState: Sendable {
        var token: String
        var lastRead: ContinuousClock.Instant?
        var lastCancellationsRead: ContinuousClock.Instant?
        var directAttempts: [String: ContinuousClock.Instant] = [:]
    }

    /// One round: answer what is known, read what is not, put the answered deliveries back.
    func round(_ state: RoundState) async throws -> RoundState {
        var state = state
        if state.lastCancellationsRead.map({ ContinuousClock.now - $0 >= configuration.idleReadInterval }) ?? true {
            state.lastCancellationsRead = ContinuousClock.now
            for eventID in try await linkedEvents() {
                do {
                    try await cancellationsRead(eventID)
                } catch let error as PlatformCallError {
                    logger.warning(
                        "cannot read an Eventbrite event's cancelled orders",
                        metadata: ["PLATFORM": "eventbrite", "PLATFORM_EVENT": "\(eventID)", "ERROR": "\(error)"])
                }
            }
        }
        let parked = try await queue.parkedJobs(limit: configuration.maxParked).compactMap { id, delivery in
            delivery.platform == .eventbrite ? (try? self.delivery.reference(delivery)).flatMap { $0 }
                .map { (id: id, reference: $0, received: delivery.receivedAtMilliseconds) } : nil
        }
        Gauge(label: "traffic_police_eventbrite_orders_awaiting_resolution").record(parked.count)
        guard !parked.isEmpty else {
            if state.lastRead.map({ ContinuousClock.now - $0 >= configuration.idleReadInterval }) ?? true {
                state.lastRead = ContinuousClock.now
                try await delivery.cache.store(try await batchRead())
            }
            return state
        }
        var known = try await delivery.cache.orders(parked.map(\.reference.orderID))
        let answered = { (job: (id: String, reference: EventbriteOrderDelivery.Reference, received: Int64)) in
            known[job.reference.orderID]?.answers(action: job.reference.action, receivedMilliseconds: job.received)
                ?? false
        }
        let waiting = parked.filter { !answered($0) }.map {
            OrderResolutionPlan.Waiting(orderID: $0.reference.orderID, action: $0.reference.action, receivedMilliseconds: $0.received)
        }
        let now = ContinuousClock.now
        state.directAttempts = state.directAttempts.filter { now - $0.value < configuration.directRetry }
        var planConfiguration = configuration.plan
        planConfiguration.maxDirect += state.directAttempts.count  // those in back-off are dropped below
        let plan = OrderResolutionPlan(
            waiting: waiting, resolved: [], now: Self.nowMilliseconds(), configuration: planConfiguration)
        var read: [String: ResolvedEventbriteOrder] = [:]
        if plan.batchRead, state.lastRead.map({ now - $0 >= configuration.minReadInterval }) ?? true {
            state.lastRead = now
            read.merge(try await batchRead()) { $1 }
        }
        for orderID in plan.direct.filter({ state.directAttempts[$0] == nil }).prefix(configuration.plan.maxDirect) {
            state.directAttempts[orderID] = now
            if let order = try await directRead(orderID) { read[orderID] = order }
        }
        if !read.isEmpty {
            try await delivery.cache.store(read)
            known.merge(read) { $1 }
        }
        let ready = parked.filter(answered).map(\.id)
        if !ready.isEmpty {
            let requeued = try await queue.requeueParked(ids: ready)
            Counter(label: "traffic_police_eventbrite_orders_resolved_total").increment(by: requeued.count)
        }
        return state
    }

    /// Reads every linked Eventbrite event's orders placed since its cursor. One event that cannot
    /// be read (unknown to Eventbrite, say) does not keep the others from being read.
    private func batchRead() async throws -> [String: ResolvedEventbriteOrder] {
        var read: [String: ResolvedEventbriteOrder] = [:]
        for eventID in try await linkedEvents() {
            do {
                read.merge(try await batchRead(eventID)) { $1 }
            } catch let error as PlatformCallError {
                logger.warning(
                    "cannot read an Eventbrite event's orders",
                    metadata: ["PLATFORM": "eventbrite", "PLATFORM_EVENT": "\(eventID)", "ERROR": "\(error)"])
            }
        }
        return read
    }

    private func batchRead(_ eventID: String) async throws -> [String: ResolvedEventbriteOrder] {
        var read: [String: ResolvedEventbriteOrder] = [:]
        var cursor = try await delivery.cache.cursor(event: eventID)
            ?? EventbriteOrderCursor(
                changedSinceMilliseconds: Self.nowMilliseconds() - Self.milliseconds(configuration.lookback))
        let orders = try await client.allEventOrders(
            eventID: eventID,
            changedSince: Date(timeIntervalSince1970: Double(cursor.changedSinceMilliseconds) / 1000),
            maxPages: configuration.maxPages, lastItemSeen: cursor.lastItemSeen, expandAttendees: true)
        let readAt = Self.nowMilliseconds()
        for order in orders {
            // Without its attendees an order's quantity is unknown: never guess it.
            guard let quantity = order.quantity else { continue }
            read[order.id] = ResolvedEventbriteOrder(
                eventID: order.eventID ?? eventID, quantity: quantity, readAtMilliseconds: readAt)
        }
        try await delivery.cache.store(read)
        try await enqueueAsPings(orders.map(\.id).filter { read[$0] != nil })
        cursor.advance(past: orders.map(\.id))
        try await delivery.cache.saveCursor(cursor, event: eventID)
        logger.debug(
            "read Eventbrite orders", metadata: ["PLATFORM": "eventbrite", "PLATFORM_EVENT": "\(eventID)", "ORDERS": "\(orders.count)"])
        return read
    }

    /// Reads the orders of `eventID` that stopped attending since the last such read (with a
    /// minute's overlap for Eventbrite's read lag) and queues each as an `order.updated` ping.
    private func cancellationsRead(_ eventID: String) async throws {
        let started = Self.nowMilliseconds()
        let since = try await delivery.cache.cancellationsSince(event: eventID)
            ?? started - Self.milliseconds(configuration.lookback)
        let orders = try await client.allEventOrders(
            eventID: eventID, status: .inactive, changedSince: Date(timeIntervalSince1970: Double(since) / 1000),
            maxPages: configuration.maxPages, expandAttendees: true)
        let readAt = Self.nowMilliseconds()
        var read: [String: ResolvedEventbriteOrder] = [:]
        for order in orders {
            guard let quantity = order.quantity else { continue }
            read[order.id] = ResolvedEventbriteOrder(
                eventID: order.eventID ?? eventID, quantity: quantity, readAtMilliseconds: readAt)
        }
        try await delivery.cache.store(read)
        let base = client.transport.endpoint.baseURL
        for orderID in read.keys.sorted() {
            let apiURL = "\(base)/orders/\(orderID)/"
            let body = #"{"api_url":"\#(apiURL)","config":{"action":"order.updated","source":"traffic-police-resolver"}}"#
            _ = try await queue.enqueue(
                WebhookDelivery(
                    platform: .eventbrite, dedupeKey: "order.updated \(apiURL) inactive", kind: "order.updated",
                    body: body, receivedAtMilliseconds: readAt))
        }
        try await delivery.cache.saveCancellationsSince(started - 60_000, event: eventID)
    }

    /// Queues each order as its `order.placed` ping would have been (the queue drops the repeats).
    private func enqueueAsPings(_ orderIDs: [String]) async throws {
        let base = client.transport.endpoint.baseURL
        let received = Self.nowMilliseconds()
        for orderID in orderIDs {
            let apiURL = "\(base)/orders/\(orderID)/"
            let body = #"{"api_url":"\#(apiURL)","config":{"action":"order.placed","source":"traffic-police-resolver"}}"#
            _ = try await queue.enqueue(
                WebhookDelivery(
                    platform: .eventbrite, dedupeKey: "order.placed " + apiURL, kind: "order.placed", body: body,
                    receivedAtMilliseconds: received))
        }
    }

    /// Reads one order; nil while Eventbrite does not show it yet.
    private func directRead(_ orderID: String) async throws -> ResolvedEventbriteOrder? {
        do {
            let order = try await client.order(id: orderID, expandAttendees: true)
            guard let eventID = order.eventID, let quantity = order.quantity else {
                logger.warning("an Eventbrite order without event_id or attendees", metadata: ["ORDER_ID": "\(orderID)"])
                return nil
            }
            return ResolvedEventbriteOrder(eventID: eventID, quantity: quantity, readAtMilliseconds: Self.nowMilliseconds())
        } catch PlatformCallError.permanent(let status, _, _) where status == 404 {
            return nil
        }
    }

    /// The Eventbrite event ids linked to events in the ledger.
    private func linkedEvents() async throws -> [String] {
        var ids: [String] = []
        for event in try await ledger.events() {
            if let id = try await ledger.listings(event.id)[.eventbrite]?.platformEventID { ids.append(id) }
        }
        return ids
    }

    static func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
