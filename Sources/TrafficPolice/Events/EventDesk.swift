import Foundation
import Logging
import Metrics
import PostgresBridge
import RedisBridge
import TrafficPoliceCore

/// The operations on events that the CLI (and later the admin API) offer: create, link, show,
/// list and the box office, plus applying platform orders — each keeping Redis and the ledger in step.
///
/// A sale: Redis decides (one Lua step), then the ledger records. A release: the ledger first, then
/// Redis. Every step is idempotent, so a retry after a crash between two steps converges, and the
/// ledger never holds a ticket that Redis does not. Counters missing from Redis are rebuilt from the ledger.
public struct EventDesk: Sendable {
    public let ledger: Ledger
    public let reservations: RedisReservations

    public init(ledger: Ledger, reservations: RedisReservations) {
        self.ledger = ledger
        self.reservations = reservations
    }

    /// Creates the event in the ledger and loads its counters into Redis.
    @discardableResult
    public func create(id: EventID, name: String, policy: CapacityPolicy, split: AllocationSplit) async throws
        -> EventSnapshot
    {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw DomainError("event name must not be empty") }
        let stock = EventStock(policy: policy, split: split)
        let record = EventRecord(id: id, name: trimmed, policy: policy, mode: stock.mode)
        try await ledger.createEvent(record, allocations: stock.allocation)
        try await reservations.load(stock, event: id)
        return try await snapshot(id)
    }

    /// Links the event's listing on a platform.
    public func link(_ id: EventID, platform: Platform, platformEventID: String, ticketClassID: String?) async throws {
        guard !platformEventID.isEmpty else { throw DomainError("--platform-event must not be empty") }
        try await ledger.link(id, platform: platform, platformEventID: platformEventID, ticketClassID: ticketClassID)
    }

    /// The event as `event show` prints it: live counters from Redis (rebuilt from the ledger
    /// when missing), or the ledger's own figures with `source: ledger` when Redis cannot be read.
    public func snapshot(_ id: EventID, allowLedgerFallback: Bool = false) async throws -> EventSnapshot {
        guard let event = try await ledger.event(id) else { throw LedgerError.eventNotFound(id) }
        return try await snapshot(event, listings: try await ledger.listings(id), allowLedgerFallback: allowLedgerFallback)
    }

    private func snapshot(_ event: EventRecord, listings: [Platform: Listing], allowLedgerFallback: Bool) async throws
        -> EventSnapshot
    {
        do {
            var counters = try await liveCounters(event.id)
            counters.capacity = event.policy.capacity
            return EventSnapshot(event: event, counters: counters, listings: listings, source: "redis")
        } catch ReservationError.redis where allowLedgerFallback {
            let stock = try await ledger.eventStock(event.id)
            return EventSnapshot(event: event, counters: stock.counters, listings: listings, source: "ledger")
        }
    }

    /// Every event, by id: the events and their listings in two queries, then the counters of up to
    /// `concurrency` events at a time (pipelined on the Redis pool's connections).
    public func list(allowLedgerFallback: Bool = false, concurrency: Int = 16) async throws -> [EventSnapshot] {
        let events = try await ledger.events()
        let listings = try await ledger.allListings()
        var snapshots = [EventSnapshot?](repeating: nil, count: events.count)
        try await withThrowingTaskGroup(of: (Int, EventSnapshot).self) { group in
            var next = 0
            func addNext() {
                guard next < events.count else { return }
                let index = next
                let event = events[index]
                next += 1
                group.addTask {
                    (index, try await snapshot(event, listings: listings[event.id] ?? [:], allowLedgerFallback: allowLedgerFallback))
                }
            }
            for _ in 0..<max(concurrency, 1) { addNext() }
            while let (index, snapshot) = try await group.next() {
                snapshots[index] = snapshot
                addNext()
            }
        }
        return snapshots.compactMap { $0 }
    }

    /// Rebuilds the event's Redis counters from the ledger alone.
    /// Loads only when Redis has no counters for the event, so a rebuild racing live decisions
    /// (or another rebuild) never wipes one; `replacing: true` is for recovery from fail-safe.
    public func rebuild(_ id: EventID, replacing: Bool = false) async throws {
        try await reservations.load(try await ledger.eventStock(id), event: id, replacing: replacing)
    }

    /// A box-office sale: from the free stock only, refused in fail-safe, recorded with the operator's name.
    public func sell(_ id: EventID, quantity: Int, approvedBy: String, saleID: String) async throws -> BoxOfficeResult {
        let operatorName = approvedBy.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !operatorName.isEmpty else { throw DomainError("--by must name the approving operator") }
        let result = try await withRebuild(id) {
            try await reservations.sellBoxOffice(event: id, saleID: saleID, quantity: quantity)
        }
        switch result {
        case .sold(_, let entered):
            try await ledger.recordBoxOfficeSale(
                event: id, saleID: saleID, quantity: quantity, approvedBy: operatorName, enteredRedAlert: entered)
        case .duplicate(let quantity):
            // A retry after a crash between the two steps: make sure the ledger has it.
            try await ledger.recordBoxOfficeSale(
                event: id, saleID: saleID, quantity: quantity, approvedBy: operatorName, enteredRedAlert: false)
        case .refused, .failsafe:
            break
        }
        return result
    }

    /// Applies one platform order: the reservation step, then the ledger. Safe to repeat.
    public func apply(
        event: EventID, platform: Platform, orderID: String, quantity: Int, source: OrderSource
    ) async throws -> ReservationResult {
        let result = try await withRebuild(event) {
            try await reservations.reserve(event: event, platform: platform, orderID: orderID, quantity: quantity)
        }
        // A duplicate reports the first outcome; recording it again is a no-op unless the
        // first attempt stopped before the ledger write.
        try await ledger.recordReservation(
            event: event, platform: platform, orderID: orderID, result: result, source: source)
        Self.noteOrder(
            result.outcome.rawValue, event: event, platform: platform, orderID: orderID, quantity: result.quantity,
            source: source, repeated: result.duplicate)
        if !result.duplicate, result.excess > 0 {
            Self.noteAbsorbed(event: event, platform: platform, orderID: orderID, excess: result.excess)
        }
        return result
    }

    /// Logs and counts tickets a platform sold past its allocation that the safety stock covered
    /// (DESIGN.md section 3: absorbed), so an operator sees how much of it is left.
    static func noteAbsorbed(event: EventID, platform: Platform, orderID: String, excess: Int) {
        Counter(label: "traffic_police_absorbed_tickets_total", dimensions: [("platform", platform.rawValue)])
            .increment(by: excess)
        absorbedLogger.warning(
            "absorbed: the platform sold past its allocation; the safety stock covers it",
            metadata: [
                "EVENT_ID": "\(event.rawValue)", "PLATFORM": "\(platform.rawValue)", "ORDER_ID": "\(orderID)",
                "EXCESS": "\(excess)",
            ])
    }

    private static let absorbedLogger = Logger(label: "traffic-police.reservations")

    /// Applies a release (refund or cancellation) of a platform order. Safe to repeat.
    ///
    /// The ledger records the release first and Redis frees the tickets second (the reverse of
    /// a reservation), so that whatever order the steps of concurrent calls interleave in, the
    /// ledger never counts a ticket Redis has already given to someone else: what the ledger
    /// holds is always a subset of what Redis holds, and Redis never holds more than C (G1).
    public func release(event: EventID, platform: Platform, orderID: String, source: OrderSource) async throws
        -> ReleaseResult
    {
        guard try await ledger.event(event) != nil else { throw LedgerError.eventNotFound(event) }
        try await ledger.recordRelease(event: event, platform: platform, orderID: orderID, source: source)
        let result = try await withRebuild(event) {
            try await reservations.release(event: event, channel: .platform(platform), orderID: orderID)
        }
        // An amended order carries a revision: record the release's, so that an amendment that
        // Redis decided before it but the ledger records after it cannot bring the order back there.
        if let order = try await reservations.order(event: event, channel: .platform(platform), orderID: orderID),
            order.revision > 0
        {
            try await ledger.recordAmendment(
                event: event, platform: platform, order: order, change: "released", enteredRedAlert: false,
                source: source)
        }
        Self.noteOrder(
            result.rawValue, event: event, platform: platform, orderID: orderID, quantity: 0, source: source,
            repeated: result == .alreadyReleased)
        return result
    }

    /// Amends a platform order to the quantity the platform now gives it (0 releases it; an
    /// unknown or released order is decided as a new one): see `EventStock.amend`. Safe to repeat.
    ///
    /// The order of the steps follows ``apply(event:platform:orderID:quantity:source:)`` and
    /// ``release(event:platform:orderID:source:)``, so that the ledger never holds a ticket that
    /// Redis does not: a decrease is written to the ledger first (``Ledger/lowerOrder``), then
    /// Redis decides, then the ledger records the order exactly as Redis left it, by its revision
    /// (an increase is thus Redis first, then the ledger). A stale, duplicate or refused step
    /// re-records the order as Redis holds it, which undoes a lowering that Redis did not make.
    /// Two amendments of one order running at once can leave the ledger above Redis between their
    /// steps, never past the capacity (`events.sold` is checked); the later revision wins in both.
    public func amend(
        event: EventID, platform: Platform, orderID: String, quantity: Int, version: Int64 = 0, source: OrderSource
    ) async throws -> AmendmentResult {
        try EventStock.validate(amendedQuantity: quantity, version: version)
        guard try await ledger.event(event) != nil else { throw LedgerError.eventNotFound(event) }
        try await ledger.lowerOrder(event: event, platform: platform, orderID: orderID, to: quantity, version: version)
        let result = try await withRebuild(event) {
            try await reservations.amend(
                event: event, platform: platform, orderID: orderID, quantity: quantity, version: version)
        }
        try await ledger.recordAmendment(
            event: event, platform: platform, order: result.order, change: result.change.rawValue,
            enteredRedAlert: result.enteredRedAlert, source: source)
        Self.noteOrder(
            result.change.rawValue, event: event, platform: platform, orderID: orderID,
            quantity: result.order.quantity, source: source,
            repeated: [.duplicate, .stale, .unchanged].contains(result.change))
        if result.excess > 0 {
            Self.noteAbsorbed(event: event, platform: platform, orderID: orderID, excess: result.excess)
        }
        return result
    }

    // MARK: - Helpers

    private func liveCounters(_ id: EventID) async throws -> EventCounters {
        if let counters = try await reservations.counters(event: id) { return counters }
        try await rebuild(id)
        guard let counters = try await reservations.counters(event: id) else {
            throw ReservationError.eventNotLoaded(id.rawValue)
        }
        return counters
    }

    /// Runs a script; when the event's counters are missing from Redis, rebuilds them from the ledger once and retries.
    func withRebuild<T: Sendable>(_ id: EventID, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch ReservationError.eventNotLoaded {
            guard try await ledger.event(id) != nil else { throw LedgerError.eventNotFound(id) }
            try await rebuild(id)
            return try await body()
        }
    }
}
