import Foundation

/// The Eventbrite v3 calls as values (pure): each request costs 1 and its decoder classifies
/// failures (`HIT_RATE_LIMIT` → rate limited, auth codes → unauthorized, 5xx → retryable, other
/// 4xx → permanent with Eventbrite's `error` code).
public enum EventbriteCalls {
    /// `status` of `GET /events/{id}/orders/`.
    public enum OrderStatus: String, Sendable, CaseIterable {
        case active, inactive, both
        case allNotDeleted = "all_not_deleted"
    }

    /// `status` of `GET /events/{id}/attendees/`.
    public enum AttendeeStatus: String, Sendable, CaseIterable {
        case attending
        case notAttending = "not_attending"
        case unpaid
    }

    static let classifier = FailureClassifier(
        rateLimitCodes: ["HIT_RATE_LIMIT"],
        authorizationCodes: ["INVALID_AUTH", "INVALID_AUTH_HEADER", "NO_AUTH", "ACCESS_DENIED", "NOT_AUTHORIZED"])

    /// `GET /orders/{id}/` (with `expand=attendees` when asked, which `quantity` needs).
    public static func order(id: String, expandAttendees: Bool = true) -> PlatformCall<EventbriteOrder> {
        let query = expandAttendees ? [QueryItem("expand", "attendees")] : []
        return .rest(PlatformRequest(method: "GET", path: pathOf("orders", id, trailingSlash: true), query: query),
                     classifier: classifier)
    }

    /// `GET /events/{id}/orders/` with optional `status`, `changed_since`, `last_item_seen` and
    /// `continuation`; orders come sorted by id ascending.
    /// - Parameters:
    ///   - lastItemSeen: with `changedSince`, only orders whose id is numerically larger (the highest
    ///     order id the previous read saw); Eventbrite ignores it without `changed_since`.
    ///   - expandAttendees: `expand=attendees`, so each order carries its attendees (and `quantity`).
    public static func eventOrders(
        eventID: String, status: OrderStatus? = nil, changedSince: Date? = nil, continuation: String? = nil,
        lastItemSeen: String? = nil, expandAttendees: Bool = false
    ) -> PlatformCall<EventbritePage<EventbriteOrder>> {
        var request = listRequest(eventID, "orders", status?.rawValue, changedSince, continuation)
        if let lastItemSeen { request.query.append(QueryItem("last_item_seen", lastItemSeen)) }
        if expandAttendees { request.query.append(QueryItem("expand", "attendees")) }
        return .rest(request, classifier: classifier, body: EventbriteOrdersBody.self) {
            EventbritePage(items: $0.orders, pagination: $0.pagination)
        }
    }

    /// `GET /events/{id}/attendees/` with optional `status`, `changed_since` and `continuation`.
    public static func attendees(
        eventID: String, status: AttendeeStatus? = nil, changedSince: Date? = nil, continuation: String? = nil
    ) -> PlatformCall<EventbritePage<EventbriteAttendee>> {
        let request = listRequest(eventID, "attendees", status?.rawValue, changedSince, continuation)
        return .rest(request, classifier: classifier, body: EventbriteAttendeesBody.self) {
            EventbritePage(items: $0.attendees, pagination: $0.pagination)
        }
    }

    /// `GET /events/{id}/ticket_classes/{tc}/`.
    public static func ticketClass(eventID: String, ticketClassID: String) -> PlatformCall<EventbriteTicketClass> {
        .rest(PlatformRequest(method: "GET", path: ticketClassPath(eventID, ticketClassID)), classifier: classifier)
    }

    /// `POST /events/{id}/ticket_classes/{tc}/` with `{"ticket_class":{"capacity":N}}`.
    public static func updateTicketClassCapacity(
        eventID: String, ticketClassID: String, capacity: Int
    ) -> PlatformCall<EventbriteTicketClass> {
        let body = JSONBody.encode(["ticket_class": ["capacity": capacity]])
        return .rest(
            PlatformRequest(method: "POST", path: ticketClassPath(eventID, ticketClassID), body: body),
            classifier: classifier)
    }

    /// `GET /events/{id}/capacity_tier/`.
    public static func capacityTier(eventID: String) -> PlatformCall<EventbriteCapacityTier> {
        .rest(PlatformRequest(method: "GET", path: pathOf("events", eventID, "capacity_tier", trailingSlash: true)),
              classifier: classifier)
    }

    /// `POST /events/{id}/capacity_tier/` with `{"capacity_tier":{"capacity_total":N}}`.
    public static func updateCapacityTier(eventID: String, capacityTotal: Int) -> PlatformCall<EventbriteCapacityTier> {
        let body = JSONBody.encode(["capacity_tier": ["capacity_total": capacityTotal]])
        return .rest(
            PlatformRequest(
                method: "POST", path: pathOf("events", eventID, "capacity_tier", trailingSlash: true), body: body),
            classifier: classifier)
    }

    private static func ticketClassPath(_ eventID: String, _ ticketClassID: String) -> String {
        pathOf("events", eventID, "ticket_classes", ticketClassID, trailingSlash: true)
    }

    private static func listRequest(
        _ eventID: String, _ list: String, _ status: String?, _ changedSince: Date?, _ continuation: String?
    ) -> PlatformRequest {
        var query: [QueryItem] = []
        if let status { query.append(QueryItem("status", status)) }
        if let changedSince { query.append(QueryItem("changed_since", PlatformDate.eventbrite(changedSince))) }
        if let continuation { query.append(QueryItem("continuation", continuation)) }
        return PlatformRequest(method: "GET", path: pathOf("events", eventID, list, trailingSlash: true), query: query)
    }
}
