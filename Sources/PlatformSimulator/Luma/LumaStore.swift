import Foundation
/// Luma's state for the simulated events: events, their one ticket type, guests and tickets, and
/// the capacity rule (`max_capacity` counts tickets; beyond it a registrant joins the waitlist when
/// the waitlist is enabled, and holds no ticket). Pure.
public struct LumaStore: Sendable {
    public struct Event: Sendable {
        public var id: String
        public var name: String
        public var created: Double
        /// nil = unlimited.
        public var maxCapacity: Int?
        public var waitlistEnabled: Bool
        public var ticketTypeID: String
        public var ticketTypeName = "General Admission"
        /// The ticket type's own `max_capacity`; nil = unlimited.
        public var ticketTypeMaxCapacity: Int?
        public var guestIDs: [String] = []
    }

    public struct Guest: Sendable {
        public var id: String
        public var eventID: String
        public var buyer: Buyer
        /// `approved`, `waitlist`, `declined`, `pending_approval`.
        public var approvalStatus: String
        public var registeredAt: Double
        /// Tickets asked for at registration (kept while waitlisted, to grant on approval).
        public var requested: Int
        /// Held tickets (empty unless approved).
        public var ticketIDs: [String]
        public var orderID: String
    }

    public private(set) var events: [String: Event] = [:]
    public private(set) var guests: [String: Guest] = [:]
    private var nextID = 1

    public init() {}

    /// Ids carry the wall-clock millisecond the store was made, so two simulators (a test's and the
    /// next test's, sharing one Redis) never hand out the same guest id, as Luma never does.
    private let instanceTag = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)

    private mutating func makeID(_ prefix: String) -> String {
        defer { nextID += 1 }
        return "\(prefix)-sim\(instanceTag)-\(String(nextID, radix: 36))"
    }

    @discardableResult
    public mutating func createEvent(id: String, capacity: Int?, waitlist: Bool, now: Double) -> Event {
        let event = Event(
            id: id, name: "Simulated event \(id)", created: now, maxCapacity: capacity, waitlistEnabled: waitlist,
            ticketTypeID: makeID("ttype"))
        events[id] = event
        return event
    }

    /// Tickets held by approved guests.
    public func approvedTickets(_ eventID: String) -> Int {
        (events[eventID]?.guestIDs ?? []).reduce(0) { total, id in
            guard let guest = guests[id], guest.approvalStatus == "approved" else { return total }
            return total + guest.ticketIDs.count
        }
    }

    /// The tighter of the event's and the ticket type's `max_capacity` (nil = unlimited).
    public func enforcedCapacity(_ eventID: String) -> Int? {
        guard let event = events[eventID] else { return nil }
        return Capacities.smallest(event.maxCapacity, event.ticketTypeMaxCapacity)
    }

    private func fits(_ eventID: String, _ quantity: Int) -> Bool {
        guard let capacity = enforcedCapacity(eventID) else { return true }
        return approvedTickets(eventID) + quantity <= capacity
    }

    /// Registers a guest for `quantity` tickets: approved when it fits, else waitlisted (waitlist
    /// enabled) or refused as sold out.
    public mutating func register(eventID: String, quantity: Int, buyer: Buyer, now: Double) -> Result<Guest, SaleRefusal> {
        guard let event = events[eventID] else { return .failure(.unknownEvent) }
        guard quantity >= 1 else { return .failure(.badQuantity) }
        let fits = fits(eventID, quantity)
        guard fits || event.waitlistEnabled else { return .failure(.soldOut) }
        var guest = Guest(
            id: makeID("gst"), eventID: eventID, buyer: buyer, approvalStatus: fits ? "approved" : "waitlist",
            registeredAt: now, requested: quantity, ticketIDs: [], orderID: makeID("evtord"))
        if fits { guest.ticketIDs = (0..<quantity).map { _ in makeID("evtticket") } }
        guests[guest.id] = guest
        events[eventID]?.guestIDs.append(guest.id)
        return .success(guest)
    }

    /// `POST /v1/events/guests/update-status`: `declined` (or `waitlist`, `pending_approval`)
    /// releases the guest's tickets; `approved` grants the requested tickets if they fit.
    public mutating func updateStatus(guestID: String, status: String, now: Double) -> Result<Guest, LumaError> {
        guard var guest = guests[guestID] else { return .failure(LumaError(404, "Guest not found")) }
        guard ["approved", "declined", "pending_approval", "waitlist"].contains(status) else {
            return .failure(LumaError(400, "status must be one of approved, declined, pending_approval, waitlist"))
        }
        if status == "approved" && guest.approvalStatus != "approved" {
            guard fits(guest.eventID, guest.requested) else {
                return .failure(LumaError(400, "The event is at capacity"))
            }
            guest.ticketIDs = (0..<guest.requested).map { _ in makeID("evtticket") }
        } else if status != "approved" {
            guest.ticketIDs = []
        }
        guest.approvalStatus = status
        guests[guestID] = guest
        return .success(guest)
    }

    /// Sets the event's `max_capacity`; returns the old value.
    public mutating func setMaxCapacity(eventID: String, _ capacity: Int?) -> Int?? {
        guard let event = events[eventID] else { return nil }
        events[eventID]?.maxCapacity = capacity
        return .some(event.maxCapacity)
    }

    /// Sets a ticket type's `max_capacity`; returns its event and the old value.
    public mutating func setTicketTypeCapacity(typeID: String, _ capacity: Int?) -> (eventID: String, old: Int?)? {
        guard let event = events.values.first(where: { $0.ticketTypeID == typeID }) else { return nil }
        events[event.id]?.ticketTypeMaxCapacity = capacity
        return (event.id, event.ticketTypeMaxCapacity)
    }

    /// A guest of `eventID` by guest id, ticket id or e-mail.
    public func findGuest(eventID: String, key: String) -> Guest? {
        (events[eventID]?.guestIDs ?? []).compactMap { guests[$0] }.first {
            $0.id == key || $0.buyer.email == key || $0.ticketIDs.contains(key)
        }
    }
}

/// A Luma error: the HTTP status and the `message`.
public struct LumaError: Error, Equatable, Sendable {
    public var status: Int
    public var message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    var response: SimResponse { .json(status, ["message": .string(message)]) }
}
