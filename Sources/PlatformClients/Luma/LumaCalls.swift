/// The Luma public API calls as values (pure): each request costs 1; failures are classified from
/// the status (429 with `Retry-After` / `X-RateLimit-Reset` → rate limited, 401/403 →
/// unauthorized, 5xx → retryable, other 4xx → permanent with Luma's `message`).
public enum LumaCalls {
    /// The statuses `POST /v1/events/guests/update-status` accepts.
    public enum GuestStatus: String, Sendable, CaseIterable, Encodable {
        case approved, declined
        case pendingApproval = "pending_approval"
        case waitlist
    }

    static let classifier = FailureClassifier()

    /// `GET /v1/events/get?event_id=`.
    public static func event(id: String) -> PlatformCall<LumaEvent> {
        .rest(PlatformRequest(method: "GET", path: "/v1/events/get", query: [QueryItem("event_id", id)]),
              classifier: classifier)
    }

    /// `POST /v1/events/update` with `{"event_id", "max_capacity"}`; nil sends `null` (no limit).
    public static func updateEvent(id: String, maxCapacity: Int?) -> PlatformCall<Void> {
        let body = JSONBody.encode(UpdateEventBody(eventID: id, maxCapacity: maxCapacity))
        return .acknowledged(PlatformRequest(method: "POST", path: "/v1/events/update", body: body),
                             classifier: classifier)
    }

    /// `GET /v1/events/guests/list` with optional `approval_status`, `pagination_cursor`, `pagination_limit`.
    public static func guests(
        eventID: String, approvalStatus: LumaApprovalStatus? = nil, cursor: String? = nil, limit: Int? = nil
    ) -> PlatformCall<LumaGuestPage> {
        var query = [QueryItem("event_id", eventID)]
        if let approvalStatus { query.append(QueryItem("approval_status", approvalStatus.rawValue)) }
        if let cursor { query.append(QueryItem("pagination_cursor", cursor)) }
        if let limit { query.append(QueryItem("pagination_limit", String(limit))) }
        return .rest(PlatformRequest(method: "GET", path: "/v1/events/guests/list", query: query),
                     classifier: classifier)
    }

    /// `GET /v1/events/guests/get?event_id=&id=` (`id`: `gst-…`, a ticket key, `g-…` or an email).
    public static func guest(eventID: String, id: String) -> PlatformCall<LumaGuest> {
        .rest(
            PlatformRequest(
                method: "GET", path: "/v1/events/guests/get",
                query: [QueryItem("event_id", eventID), QueryItem("id", id)]),
            classifier: classifier)
    }

    /// `GET /v1/events/ticket-types/list?event_id=` (hidden types included when asked).
    public static func ticketTypes(eventID: String, includeHidden: Bool = false) -> PlatformCall<[LumaTicketType]> {
        var query = [QueryItem("event_id", eventID)]
        if includeHidden { query.append(QueryItem("include_hidden", "true")) }
        return .rest(
            PlatformRequest(method: "GET", path: "/v1/events/ticket-types/list", query: query),
            classifier: classifier, body: LumaTicketTypesBody.self
        ) { $0.entries }
    }

    /// `POST /v1/events/guests/update-status` with `{"event_id", "guest_id", "status"}`.
    public static func updateGuestStatus(eventID: String, guestID: String, status: GuestStatus) -> PlatformCall<Void> {
        let body = JSONBody.encode(["event_id": eventID, "guest_id": guestID, "status": status.rawValue])
        return .acknowledged(
            PlatformRequest(method: "POST", path: "/v1/events/guests/update-status", body: body),
            classifier: classifier)
    }
}

/// `{"event_id": …, "max_capacity": N | null}`: `null` is sent, not omitted.
struct UpdateEventBody: Encodable {
    var eventID: String
    var maxCapacity: Int?

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", maxCapacity = "max_capacity"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventID, forKey: .eventID)
        if let maxCapacity {
            try container.encode(maxCapacity, forKey: .maxCapacity)
        } else {
            try container.encodeNil(forKey: .maxCapacity)
        }
    }
}
