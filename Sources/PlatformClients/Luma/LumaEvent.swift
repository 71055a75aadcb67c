import Foundation

/// A Luma event as `GET /v1/events/get` returns it (the fields Traffic Police reads). This spec
/// version returns no `max_capacity` (read when present); `waitlist_status` is `enabled` or `disabled`.
public struct LumaEvent: Sendable, Hashable, Decodable {
    /// `evt-…`.
    public var id: String
    public var name: String?
    public var calendarID: String?
    public var startAt: Date?
    public var endAt: Date?
    public var timezone: String?
    public var url: String?
    public var waitlistStatus: String?
    /// `max_capacity` (nil = unlimited) when `reportsMaxCapacity`.
    public var maxCapacity: Int?
    /// Whether the answer carried `max_capacity` at all.
    public var reportsMaxCapacity: Bool

    enum CodingKeys: String, CodingKey {
        case id, name, calendarID = "calendar_id", startAt = "start_at", endAt = "end_at", timezone, url
        case waitlistStatus = "waitlist_status", maxCapacity = "max_capacity", event
    }

    public init(from decoder: any Decoder) throws {
        // Older responses wrap the event: {"event": {…}, "hosts": […]}.
        let container = try decoder.container(keyedBy: CodingKeys.self).unwrapping(.event)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        calendarID = try container.decodeIfPresent(String.self, forKey: .calendarID)
        startAt = try container.decodeIfPresent(Date.self, forKey: .startAt)
        endAt = try container.decodeIfPresent(Date.self, forKey: .endAt)
        timezone = try container.decodeIfPresent(String.self, forKey: .timezone)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        waitlistStatus = try container.decodeIfPresent(String.self, forKey: .waitlistStatus)
        reportsMaxCapacity = container.contains(.maxCapacity)
        maxCapacity = try container.decodeIfPresent(Int.self, forKey: .maxCapacity)
    }
}

/// A Luma ticket type (`GET /v1/events/ticket-types/list`): `max_capacity` null is unlimited;
/// Luma reports no sold count.
public struct LumaTicketType: Sendable, Hashable, Decodable {
    /// `ttype-…`.
    public var id: String
    public var name: String?
    /// `free` or `paid`.
    public var type: String?
    public var maxCapacity: Int?
    public var isHidden: Bool?
    public var requireApproval: Bool?

    enum CodingKeys: String, CodingKey {
        case id, name, type, maxCapacity = "max_capacity", isHidden = "is_hidden", requireApproval = "require_approval"
    }
}

/// `{"entries": [LumaTicketType]}`.
struct LumaTicketTypesBody: Decodable {
    var entries: [LumaTicketType]
}
