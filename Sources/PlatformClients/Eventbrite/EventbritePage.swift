/// Eventbrite's `pagination` object. Ask for the next page with `continuation` while `hasMoreItems`.
public struct EventbritePagination: Sendable, Hashable, Decodable {
    public var objectCount: Int?
    public var continuation: String?
    public var pageCount: Int?
    public var pageSize: Int?
    public var hasMoreItems: Bool
    public var pageNumber: Int?

    enum CodingKeys: String, CodingKey {
        case objectCount = "object_count", continuation, pageCount = "page_count", pageSize = "page_size"
        case hasMoreItems = "has_more_items", pageNumber = "page_number"
    }
}

/// One page of a list endpoint (`orders` or `attendees`).
public struct EventbritePage<Item: Sendable & Hashable>: Sendable, Hashable {
    public var items: [Item]
    public var pagination: EventbritePagination

    /// The token for the next page, or nil on the last page.
    public var nextContinuation: String? { pagination.hasMoreItems ? pagination.continuation : nil }
}

/// The wire shape `{"pagination": …, "orders": [EventbriteOrder]}`.
struct EventbriteOrdersBody: Decodable {
    var orders: [EventbriteOrder]
    var pagination: EventbritePagination
}

/// The wire shape `{"pagination": …, "attendees": [EventbriteAttendee]}`.
struct EventbriteAttendeesBody: Decodable {
    var attendees: [EventbriteAttendee]
    var pagination: EventbritePagination
}
