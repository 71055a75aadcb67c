import Foundation

/// An Eventbrite order (`GET /orders/{id}/`). Eventbrite has no quantity field: with
/// `expand=attendees` the quantity is the number of attendees not cancelled or refunded.
public struct EventbriteOrder: Sendable, Hashable, Decodable {
    public var id: String
    /// `started`, `pending`, `placed` or `abandoned`.
    public var status: String?
    public var eventID: String?
    public var created: Date?
    public var changed: Date?
    public var email: String?
    public var name: String?
    /// Present only when the order was read with `expand=attendees`.
    public var attendees: [EventbriteAttendee]?

    /// Tickets the order holds: attendees that are neither cancelled nor refunded; nil when the
    /// attendees were not expanded.
    public var quantity: Int? { attendees.map { $0.filter(\.holdsTicket).count } }

    enum CodingKeys: String, CodingKey {
        case id, status, eventID = "event_id", created, changed, email, name, attendees
    }
}

/// One Eventbrite attendee: one ticket (`quantity` is always 1).
public struct EventbriteAttendee: Sendable, Hashable, Decodable {
    public var id: String
    public var orderID: String?
    public var eventID: String?
    public var ticketClassID: String?
    public var created: Date?
    public var changed: Date?
    /// Deprecated by Eventbrite: `Attending`, `Checked In`, `Not Attending`, `Deleted`.
    public var status: String?
    public var cancelled: Bool
    public var refunded: Bool
    public var checkedIn: Bool

    /// Whether this attendee still holds its ticket.
    public var holdsTicket: Bool { !cancelled && !refunded }

    enum CodingKeys: String, CodingKey {
        case id, orderID = "order_id", eventID = "event_id", ticketClassID = "ticket_class_id", created, changed
        case status, cancelled, refunded, checkedIn = "checked_in"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        orderID = try container.decodeIfPresent(String.self, forKey: .orderID)
        eventID = try container.decodeIfPresent(String.self, forKey: .eventID)
        ticketClassID = try container.decodeIfPresent(String.self, forKey: .ticketClassID)
        created = try container.decodeIfPresent(Date.self, forKey: .created)
        changed = try container.decodeIfPresent(Date.self, forKey: .changed)
        status = try container.decodeIfPresent(String.self, forKey: .status)
        cancelled = try container.decodeIfPresent(Bool.self, forKey: .cancelled) ?? false
        refunded = try container.decodeIfPresent(Bool.self, forKey: .refunded) ?? false
        checkedIn = try container.decodeIfPresent(Bool.self, forKey: .checkedIn) ?? false
    }
}
