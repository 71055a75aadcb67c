/// Meetup's GraphQL API (`Authorization: Bearer`, POST to the `gql-ext` endpoint): the thin async
/// shell that sends `MeetupCalls`. Results carry the points they cost, to settle with the throttler.
public struct MeetupClient: PlatformAPIClient {
    public let transport: PlatformTransport

    /// Creates a client over `transport` (whose endpoint's platform should be `.meetup`).
    public init(transport: PlatformTransport) { self.transport = transport }

    /// One page of the event's RSVPs.
    public func rsvps(
        eventID: String, after: String? = nil, first: Int = 50,
        statuses: [MeetupRsvpStatus] = MeetupCalls.defaultStatuses
    ) async throws -> MeetupRsvpPage {
        try await perform(MeetupCalls.rsvps(eventID: eventID, after: after, first: first, statuses: statuses))
    }

    /// Every RSVP of the event, following `endCursor` for at most `maxPages` pages.
    public func allRsvps(
        eventID: String, first: Int = 50, statuses: [MeetupRsvpStatus] = MeetupCalls.defaultStatuses,
        maxPages: Int = 200
    ) async throws -> [MeetupRsvp] {
        try await PageCollector.collect(maxPages: maxPages, cursorField: "pageInfo.endCursor") { cursor in
            let page = try await rsvps(eventID: eventID, after: cursor, first: first, statuses: statuses)
            guard page.hasNextPage else { return (page.rsvps, nil) }
            guard let next = page.endCursor, !next.isEmpty else {
                throw PlatformCallError.malformedResponse(
                    field: "pageInfo.endCursor", why: "missing while hasNextPage is true")
            }
            return (page.rsvps, next)
        }
    }

    /// Sets the event's RSVP limit (0 removes it).
    public func editEvent(eventID: String, rsvpLimit: Int) async throws -> MeetupMutationResult {
        try await perform(MeetupCalls.editEvent(eventID: eventID, rsvpLimit: rsvpLimit))
    }

    /// Closes the event's RSVPs.
    public func closeEventRsvps(eventID: String) async throws -> MeetupMutationResult {
        try await perform(MeetupCalls.closeEventRsvps(eventID: eventID))
    }

    /// Opens the event's RSVPs.
    public func openEventRsvps(eventID: String) async throws -> MeetupMutationResult {
        try await perform(MeetupCalls.openEventRsvps(eventID: eventID))
    }
}
