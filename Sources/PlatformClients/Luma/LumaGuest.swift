import Foundation

/// A Luma guest's `approval_status`; values this code does not know are kept, not refused.
public struct LumaApprovalStatus: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let approved = LumaApprovalStatus(rawValue: "approved")
    public static let session = LumaApprovalStatus(rawValue: "session")
    public static let pendingApproval = LumaApprovalStatus(rawValue: "pending_approval")
    public static let invited = LumaApprovalStatus(rawValue: "invited")
    public static let declined = LumaApprovalStatus(rawValue: "declined")
    public static let waitlist = LumaApprovalStatus(rawValue: "waitlist")
}

/// A Luma guest: one order (DESIGN.md section 4). Its quantity is the number of `event_tickets`;
/// `declined` releases it and `waitlist` holds nothing. Unknown fields are ignored.
public struct LumaGuest: Sendable, Hashable, Decodable {
    /// `gst-…`.
    public var id: String
    public var approvalStatus: LumaApprovalStatus
    public var eventTickets: [LumaEventTicket]
    public var registeredAt: Date?
    public var userID: String?
    public var userEmail: String?
    public var userName: String?

    /// Tickets on the guest (the count of `event_tickets`), whatever the status.
    public var quantity: Int { eventTickets.count }

    /// Whether the guest holds its tickets: only an `approved` guest does.
    public var holdsTickets: Bool { approvalStatus == .approved }

    enum CodingKeys: String, CodingKey {
        case id, approvalStatus = "approval_status", eventTickets = "event_tickets"
        case registeredAt = "registered_at", userID = "user_id", userEmail = "user_email", userName = "user_name"
        case guest
    }

    public init(from decoder: any Decoder) throws {
        // The legacy shape nests the guest: {"api_id": "gst-…", "guest": {…}}.
        let container = try decoder.container(keyedBy: CodingKeys.self).unwrapping(.guest)
        id = try container.decode(String.self, forKey: .id)
        approvalStatus = try container.decode(LumaApprovalStatus.self, forKey: .approvalStatus)
        eventTickets = try container.decodeIfPresent([LumaEventTicket].self, forKey: .eventTickets) ?? []
        registeredAt = try container.decodeIfPresent(Date.self, forKey: .registeredAt)
        userID = try container.decodeIfPresent(String.self, forKey: .userID)
        userEmail = try container.decodeIfPresent(String.self, forKey: .userEmail)
        userName = try container.decodeIfPresent(String.self, forKey: .userName)
    }
}

/// One ticket of a guest.
public struct LumaEventTicket: Sendable, Hashable, Decodable {
    public var id: String
    public var eventTicketTypeID: String?
    public var name: String?
    /// In the currency's minor units.
    public var amount: Double?
    public var currency: String?
    public var checkedInAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, eventTicketTypeID = "event_ticket_type_id", name, amount, currency, checkedInAt = "checked_in_at"
    }
}

/// One page of `GET /v1/events/guests/list`.
public struct LumaGuestPage: Sendable, Hashable, Decodable {
    public var entries: [LumaGuest]
    public var hasMore: Bool
    /// Pass as `pagination_cursor` for the next page.
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case entries, hasMore = "has_more", nextCursor = "next_cursor"
    }
}
