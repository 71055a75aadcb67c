/// The GraphQL documents sent to Meetup's `gql-ext` endpoint, verbatim. The platform simulator
/// parses them too: change them only together with it.
public enum MeetupDocuments {
    /// One page of an event's RSVPs with YES, WAITLIST and NO (the filter's default is YES and
    /// ATTENDED only), most recently changed first (`DATETIME` = the RSVP's `updated`, `DESC`), so an
    /// incremental poll can stop at the first RSVP it has already seen. Variables: `id`, `after`
    /// (absent on the first page), `first`.
    public static let rsvps =
        "query($id: ID!, $after: String, $first: Int!) { event(id: $id) { id status maxTickets waitlistMode rsvpSettings { rsvpOpenTime rsvpCloseTime rsvpsClosed } rsvps(first: $first, after: $after, filter: {rsvpStatus: [YES, WAITLIST, NO]}, sort: {sortField: DATETIME, sortOrder: DESC}) { totalCount yesCount waitlistCount noCount pageInfo { hasNextPage endCursor } edges { cursor node { id status guestsCount updated isHost payStatus member { id name } } } } } }"

    /// `rsvps` with the statuses as a variable, sent only when a caller asks for statuses other
    /// than YES, WAITLIST and NO. Variables: `id`, `after`, `first`, `statuses`.
    public static let rsvpsWithStatuses =
        "query($id: ID!, $after: String, $first: Int!, $statuses: [RsvpStatus!]) { event(id: $id) { id status maxTickets waitlistMode rsvpSettings { rsvpOpenTime rsvpCloseTime rsvpsClosed } rsvps(first: $first, after: $after, filter: {rsvpStatus: $statuses}, sort: {sortField: DATETIME, sortOrder: DESC}) { totalCount yesCount waitlistCount noCount pageInfo { hasNextPage endCursor } edges { cursor node { id status guestsCount updated isHost payStatus member { id name } } } } } }"

    /// Sets the RSVP limit. Variables: `{"input":{"eventId":…,"rsvpSettings":{"rsvpLimit":N}}}`.
    public static let editEvent =
        "mutation($input: EditEventInput!) { editEvent(input: $input) { event { id maxTickets } errors { code field message } } }"

    /// Closes RSVPs. Variables: `{"input":{"eventId":…}}`.
    public static let closeEventRsvps =
        "mutation($input: CloseEventRsvpsInput!) { closeEventRsvps(input: $input) { event { id } errors { code field message } } }"

    /// Opens RSVPs. Variables: `{"input":{"eventId":…}}`.
    public static let openEventRsvps =
        "mutation($input: OpenEventRsvpsInput!) { openEventRsvps(input: $input) { event { id } errors { code field message } } }"
}
