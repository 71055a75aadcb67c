import Foundation

/// A Luma guest webhook (`guest.registered`, `ticket.registered`, `guest.updated`) reduced to what
/// the reservation step needs: one order per guest (order id = guest id), its quantity = the number
/// of its `event_tickets`, and what its `approval_status` asks for.
public struct LumaGuestDelivery: Sendable, Hashable {
    /// What the guest's approval status means for its tickets.
    public enum Intent: Sendable, Hashable {
        /// `approved` (or no status): the guest holds `quantity` tickets.
        case reserve(quantity: Int)
        /// `declined`: a cancellation or refund; release whatever the guest held.
        case release
        /// `waitlist`, `pending_approval`, `invited`: holds nothing (release it if it was held).
        case holdNothing(status: String)
    }

    /// The Luma event types that describe a guest (one order).
    public static let guestTypes: Set<String> = ["guest.registered", "ticket.registered", "guest.updated"]

    public var type: String
    /// The guest id (`gst-…`): the order id.
    public var guestID: String
    /// Luma's event id (`evt-…`), as linked with `event link --platform luma --platform-event`.
    public var lumaEventID: String
    public var intent: Intent

    /// Whether the delivery is the guest's state when it was sent (`guest.updated`, as Luma sends on
    /// a change and as the sweep queues its corrections), rather than a view of its registration.
    public var isCurrentState: Bool { type == "guest.updated" }

    /// Parses the body. Returns nil for a well-formed delivery of another type (nothing to apply);
    /// throws ``MalformedPayload`` when the body is not a guest payload it claims to be.
    public static func parse(_ body: String, kind: String) throws -> LumaGuestDelivery? {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(body.utf8))
        } catch {
            throw MalformedPayload("the body is not a Luma webhook payload: \(Self.describe(error))")
        }
        let type = envelope.type ?? kind
        guard guestTypes.contains(type) else { return nil }
        guard let guest = envelope.data else { throw MalformedPayload("\(type) without `data`") }
        guard let guestID = guest.id?.trimmingCharacters(in: .whitespaces), !guestID.isEmpty else {
            throw MalformedPayload("\(type) without a guest id (`data.id`)")
        }
        let eventID = [guest.event?.id, guest.eventID, guest.event?.apiID, guest.eventAPIID]
            .compactMap { $0?.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        guard let lumaEventID = eventID else {
            throw MalformedPayload("\(type) of guest \(guestID) without an event id (`data.event.id`)")
        }
        let intent: Intent
        switch guest.approvalStatus {
        case nil, "approved":
            intent = .reserve(quantity: max(1, guest.eventTickets?.count ?? 1))
        case "declined":
            intent = .release
        case let status? where ["waitlist", "pending_approval", "invited"].contains(status):
            intent = .holdNothing(status: status)
        case let status?:
            throw MalformedPayload("guest \(guestID) has an approval_status this version does not know: '\(status)'")
        }
        return LumaGuestDelivery(type: type, guestID: guestID, lumaEventID: lumaEventID, intent: intent)
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.keyNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    // MARK: - The payload's shape (platforms.md 2.2); only what is used is decoded.

    private struct Envelope: Decodable {
        var type: String?
        var data: Guest?
    }

    private struct Guest: Decodable {
        var id: String?
        var approvalStatus: String?
        var eventTickets: [AnyJSON]?
        var event: EventReference?
        var eventID: String?
        var eventAPIID: String?

        enum CodingKeys: String, CodingKey {
            case id, event
            case approvalStatus = "approval_status"
            case eventTickets = "event_tickets"
            case eventID = "event_id"
            case eventAPIID = "event_api_id"
        }
    }

    private struct EventReference: Decodable {
        var id: String?
        var apiID: String?

        enum CodingKeys: String, CodingKey {
            case id
            case apiID = "api_id"
        }
    }

    /// Any JSON value (a ticket is only counted).
    private struct AnyJSON: Decodable {
        init(from decoder: any Decoder) throws {}
    }
}

/// A delivery that can never be applied: dead-lettered with this reason.
public struct MalformedPayload: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
