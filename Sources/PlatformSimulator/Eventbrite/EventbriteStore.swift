import Foundation
/// Eventbrite's state for the simulated events: ticket classes, capacity tiers, orders and attendees,
/// and the capacity rule it enforces. Pure: time comes in as `now`, reads honour the read lag.
public struct EventbriteStore: Sendable {
    /// One event with its single ticket class and its capacity tier.
    public struct Event: Sendable {
        public var id: String
        public var created: Double
        public var ticketClassID: String
        public var ticketClassName = "General Admission"
        /// The ticket class `capacity`; nil = not set (the tier then decides).
        public var ticketClassCapacity: Lagged<Int?>
        /// The capacity tier `capacity_total`; nil = no custom capacity (unlimited).
        public var tierCapacity: Lagged<Int?>
        public var orderIDs: [String] = []
        public var attendeeIDs: [String] = []
    }

    public struct Order: Sendable {
        public var id: String
        public var eventID: String
        public var created: Double
        public var changed: Double
        /// Reads see the order (and its attendees) from this time on.
        public var visibleAt: Double
        public var buyer: Buyer
        public var attendeeIDs: [String]
    }

    public struct Attendee: Sendable {
        public var id: String
        public var orderID: String
        public var eventID: String
        public var created: Double
        public var changed: Double
        public var visibleAt: Double
        public var buyer: Buyer
        public var cancelled = false
        public var refunded = false

        public var attending: Bool { !cancelled && !refunded }
    }

    /// A refused capacity write: the Eventbrite error code and text.
    public struct CapacityError: Error, Equatable, Sendable {
        public var code: String
        public var description: String
    }

    public private(set) var events: [String: Event] = [:]
    public private(set) var orders: [String: Order] = [:]
    public private(set) var attendees: [String: Attendee] = [:]
    /// Order ids grow from the wall-clock millisecond the store was made (× 10,000), so two
    /// simulators — a test's and the next test's, sharing one Redis — never hand out the same order
    /// id, as Eventbrite never does.
    private var nextOrder = Int(Date().timeIntervalSince1970 * 1000) * 10_000 + 1
    private var nextAttendee = 2_000_000_001
    private var nextTicketClass = 3_000_000_001

    public init() {}

    /// Creates (or replaces) an event whose capacity tier is `capacity` (nil = unlimited) and whose
    /// ticket class (id `ticketClassID`, or a generated one) has no capacity of its own.
    @discardableResult
    public mutating func createEvent(id: String, capacity: Int?, ticketClassID: String?, now: Double) -> Event {
        let classID = ticketClassID ?? String(nextTicketClass)
        if ticketClassID == nil { nextTicketClass += 1 }
        let event = Event(
            id: id, created: now, ticketClassID: classID, ticketClassCapacity: Lagged(nil),
            tierCapacity: Lagged(capacity))
        events[id] = event
        return event
    }

    /// Tickets held by attending attendees.
    public func sold(_ eventID: String) -> Int {
        events[eventID]?.attendeeIDs.reduce(0) { $0 + ((attendees[$1]?.attending ?? false) ? 1 : 0) } ?? 0
    }

    /// The capacity enforced now: the smaller of the ticket class `capacity` and the tier's
    /// `capacity_total`, whichever are set (platforms.md 1.4: availability is "limited by the smallest
    /// of event capacity, inventory tier capacity, and ticket capacity"); nil when neither is.
    public func enforcedCapacity(_ eventID: String) -> Int? {
        guard let event = events[eventID] else { return nil }
        return Capacities.smallest(event.ticketClassCapacity.current, event.tierCapacity.current)
    }

    /// The same rule over the values reads see at `now`.
    func visibleCapacity(_ event: Event, now: Double) -> Int? {
        Capacities.smallest(event.ticketClassCapacity.visible(at: now), event.tierCapacity.visible(at: now))
    }

    /// Places an order of `quantity` tickets, or refuses it when it would exceed the capacity.
    public mutating func placeOrder(
        eventID: String, quantity: Int, buyer: Buyer, now: Double, lag: Double
    ) -> Result<Order, SaleRefusal> {
        guard events[eventID] != nil else { return .failure(.unknownEvent) }
        guard quantity >= 1 else { return .failure(.badQuantity) }
        if let capacity = enforcedCapacity(eventID), sold(eventID) + quantity > capacity {
            return .failure(.soldOut)
        }
        let orderID = String(nextOrder)
        nextOrder += 1
        var ids: [String] = []
        for _ in 0..<quantity {
            let id = String(nextAttendee)
            nextAttendee += 1
            ids.append(id)
            attendees[id] = Attendee(
                id: id, orderID: orderID, eventID: eventID, created: now, changed: now, visibleAt: now + lag,
                buyer: buyer)
        }
        let order = Order(
            id: orderID, eventID: eventID, created: now, changed: now, visibleAt: now + lag, buyer: buyer,
            attendeeIDs: ids)
        orders[orderID] = order
        events[eventID]?.orderIDs.append(orderID)
        events[eventID]?.attendeeIDs.append(contentsOf: ids)
        return .success(order)
    }

    /// Cancels every attendee of an order (refunded as well when `refund`). False if unknown or already cancelled.
    public mutating func cancelOrder(_ orderID: String, refund: Bool, now: Double) -> Bool {
        guard var order = orders[orderID] else { return false }
        let open = order.attendeeIDs.filter { attendees[$0]?.attending ?? false }
        guard !open.isEmpty else { return false }
        for id in open {
            attendees[id]?.cancelled = true
            attendees[id]?.refunded = refund
            attendees[id]?.changed = now
        }
        order.changed = now
        orders[orderID] = order
        return true
    }

    /// `POST /events/{id}/ticket_classes/{tc}/` `{"ticket_class":{"capacity":N}}`: returns (old, new).
    public mutating func setTicketClassCapacity(
        eventID: String, capacity: Int?, now: Double, lag: Double
    ) -> Result<(old: Int?, new: Int?), CapacityError> {
        setCapacity(
            \.ticketClassCapacity, eventID: eventID, capacity: capacity, now: now, lag: lag,
            tooSmall: CapacityError(
                code: "BAD_QUANTITIES",
                description: "The ticket class capacity (\(capacity ?? 0)) is below the quantity sold (\(sold(eventID)))."))
    }

    /// `POST /events/{id}/capacity_tier/` `{"capacity_tier":{"capacity_total":N}}`: returns (old, new).
    public mutating func setTierCapacity(
        eventID: String, capacity: Int?, now: Double, lag: Double
    ) -> Result<(old: Int?, new: Int?), CapacityError> {
        setCapacity(
            \.tierCapacity, eventID: eventID, capacity: capacity, now: now, lag: lag,
            tooSmall: CapacityError(
                code: "CAPACITY_TOTAL_TOO_SMALL", description: "Capacity total is too small for oversold quantities"))
    }

    /// Sets one of the two capacities unless it would fall below what is sold.
    private mutating func setCapacity(
        _ field: WritableKeyPath<Event, Lagged<Int?>>, eventID: String, capacity: Int?, now: Double, lag: Double,
        tooSmall: CapacityError
    ) -> Result<(old: Int?, new: Int?), CapacityError> {
        guard let event = events[eventID] else {
            return .failure(CapacityError(code: "NOT_FOUND", description: "The event you requested does not exist."))
        }
        if let capacity, capacity < 0 || capacity < sold(eventID) { return .failure(tooSmall) }
        let old = event[keyPath: field].current
        events[eventID]?[keyPath: field].set(capacity, now: now, lag: lag)
        return .success((old, capacity))
    }

    /// The order as reads see it at `now` (nil while the read lag hides it).
    public func visibleOrder(_ id: String, now: Double) -> Order? {
        guard let order = orders[id], order.visibleAt <= now else { return nil }
        return order
    }

    /// Attendee filter of `GET /events/{id}/attendees/`.
    public enum AttendeeStatus: String, Sendable {
        /// `unpaid`: attendees of orders awaiting payment; the simulator's orders are all placed, so none.
        case attending, notAttending = "not_attending", unpaid, all
    }

    /// Visible attendees of an event in creation order, filtered by status and `changed >= changedSince`.
    public func attendees(
        of eventID: String, status: AttendeeStatus, changedSince: Double?, now: Double
    ) -> [Attendee] {
        (events[eventID]?.attendeeIDs ?? []).compactMap { attendees[$0] }.filter { attendee in
            guard attendee.visibleAt <= now else { return false }
            if let changedSince, attendee.changed < changedSince { return false }
            switch status {
            case .attending: return attendee.attending
            case .notAttending: return !attendee.attending
            case .unpaid: return false
            case .all: return true
            }
        }
    }

    /// Order filter of `GET /events/{id}/orders/` (`active`, `inactive`, `both`, `all_not_deleted`), sorted
    /// by id ascending (ids are increasing decimal numbers in placement order). `lastItemSeen` keeps only
    /// orders whose id is numerically larger, and applies only together with `changedSince` (platforms.md 1.3).
    public func orders(
        of eventID: String, status: String, changedSince: Double?, lastItemSeen: Int? = nil, now: Double
    ) -> [Order] {
        let after = changedSince == nil ? nil : lastItemSeen
        return (events[eventID]?.orderIDs ?? []).compactMap { visibleOrder($0, now: now) }.filter { order in
            if let changedSince, order.changed < changedSince { return false }
            if let after, (Int(order.id) ?? 0) <= after { return false }
            let active = order.attendeeIDs.contains { attendees[$0]?.attending ?? false }
            switch status {
            case "active": return active
            case "inactive": return !active
            default: return true
            }
        }.sorted { (Int($0.id) ?? 0) < (Int($1.id) ?? 0) }
    }
}
