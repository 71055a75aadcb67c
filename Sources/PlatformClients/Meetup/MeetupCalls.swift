/// The Meetup GraphQL calls as values (pure): `POST` of `{"query","variables"}` to the endpoint,
/// each request's cost the point estimate of `MeetupCost`.
public enum MeetupCalls {
    /// The statuses `MeetupDocuments.rsvps` asks for.
    public static let defaultStatuses: [MeetupRsvpStatus] = [.yes, .waitlist, .no]

    /// One page of the event's RSVPs, `first` per page (at least 1), after the cursor `after`.
    /// Other `statuses` than the default use `MeetupDocuments.rsvpsWithStatuses`.
    public static func rsvps(
        eventID: String, after: String? = nil, first: Int = 50, statuses: [MeetupRsvpStatus] = defaultStatuses
    ) -> PlatformCall<MeetupRsvpPage> {
        let first = max(1, first)
        let custom = statuses != defaultStatuses
        let body = JSONBody.encode(
            GraphQLBody(
                query: custom ? MeetupDocuments.rsvpsWithStatuses : MeetupDocuments.rsvps,
                variables: RsvpsVariables(
                    id: eventID, after: after, first: first, statuses: custom ? statuses.map(\.rawValue) : nil)))
        let request = PlatformRequest(method: "POST", path: "", body: body, cost: MeetupCost.queryEstimate(first: first))
        return PlatformCall(request: request) { response in
            let data = try GraphQLResponse.data(RsvpsData.self, from: response)
            guard let event = data.event else {
                throw PlatformCallError.permanent(
                    status: response.status, code: "NOT_FOUND", message: "event \(eventID) not found")
            }
            let connection = event.rsvps
            return MeetupRsvpPage(
                event: MeetupEventSummary(
                    id: event.id, status: event.status, maxTickets: event.maxTickets,
                    waitlistMode: event.waitlistMode, rsvpSettings: event.rsvpSettings),
                totalCount: connection.totalCount, yesCount: connection.yesCount,
                waitlistCount: connection.waitlistCount, noCount: connection.noCount,
                rsvps: connection.edges.map { edge in
                    var rsvp = edge.node
                    rsvp.cursor = edge.cursor
                    return rsvp
                },
                hasNextPage: connection.pageInfo.hasNextPage, endCursor: connection.pageInfo.endCursor,
                cost: MeetupCost.queryActual(nodesReturned: connection.edges.count))
        }
    }

    /// `editEvent` with `rsvpSettings.rsvpLimit` (0 removes the limit).
    public static func editEvent(eventID: String, rsvpLimit: Int) -> PlatformCall<MeetupMutationResult> {
        mutation(
            MeetupDocuments.editEvent, field: "editEvent",
            input: EventInput(eventId: eventID, rsvpSettings: .init(rsvpLimit: rsvpLimit)))
    }

    /// `closeEventRsvps`.
    public static func closeEventRsvps(eventID: String) -> PlatformCall<MeetupMutationResult> {
        mutation(MeetupDocuments.closeEventRsvps, field: "closeEventRsvps", input: EventInput(eventId: eventID))
    }

    /// `openEventRsvps`.
    public static func openEventRsvps(eventID: String) -> PlatformCall<MeetupMutationResult> {
        mutation(MeetupDocuments.openEventRsvps, field: "openEventRsvps", input: EventInput(eventId: eventID))
    }

    private static func mutation(
        _ document: String, field: String, input: EventInput
    ) -> PlatformCall<MeetupMutationResult> {
        let body = JSONBody.encode(GraphQLBody(query: document, variables: ["input": input]))
        let request = PlatformRequest(method: "POST", path: "", body: body, cost: MeetupCost.mutation)
        return PlatformCall(request: request) { try GraphQLResponse.mutation(field, from: $0) }
    }
}

/// `{"query": …, "variables": …}`.
struct GraphQLBody<Variables: Encodable>: Encodable {
    var query: String
    var variables: Variables
}

/// The RSVP query's variables; `after` and `statuses` are left out when nil.
struct RsvpsVariables: Encodable {
    var id: String
    var after: String?
    var first: Int
    var statuses: [String]?
}

/// `{"eventId": …, "rsvpSettings": {"rsvpLimit": N}}` (the settings left out when nil).
struct EventInput: Encodable {
    var eventId: String
    var rsvpSettings: RsvpSettingsInput?

    struct RsvpSettingsInput: Encodable {
        var rsvpLimit: Int
    }
}

/// `data` of the RSVP query.
struct RsvpsData: Decodable {
    var event: Event?

    struct Event: Decodable {
        var id: String
        var status: String?
        var maxTickets: Int?
        var waitlistMode: String?
        var rsvpSettings: MeetupEventSummary.RsvpSettings?
        var rsvps: Connection
    }

    struct Connection: Decodable {
        var totalCount: Int?
        var yesCount: Int?
        var waitlistCount: Int?
        var noCount: Int?
        var pageInfo: PageInfo
        var edges: [Edge]
    }

    struct PageInfo: Decodable {
        var hasNextPage: Bool
        var endCursor: String?
    }

    struct Edge: Decodable {
        var cursor: String?
        var node: MeetupRsvp
    }
}
