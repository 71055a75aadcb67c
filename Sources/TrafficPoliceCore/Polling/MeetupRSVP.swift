/// One Meetup RSVP as the poller sees it (platforms.md section 3.3): the order of DESIGN.md
/// section 4, keyed by the RSVP id.
public struct MeetupRSVP: Sendable, Hashable {
    /// The RSVP id (the order id).
    public var id: String
    /// `RsvpStatus`: YES, NO, WAITLIST, ATTENDED, …
    public var status: String
    /// Guests the member brings.
    public var guestsCount: Int
    /// The `updated` DateTime exactly as the platform sent it.
    public var updated: String

    public init(id: String, status: String, guestsCount: Int, updated: String) {
        self.id = id
        self.status = status
        self.guestsCount = guestsCount
        self.updated = updated
    }

    /// Tickets this RSVP holds: 1 + guests while YES or ATTENDED, else 0 (a release).
    public var quantity: Int {
        Self.holdingStatuses.contains(status) ? 1 + max(0, guestsCount) : 0
    }

    /// What makes one state of an RSVP distinct: the queue dedupes on it (id + status + guests + updated).
    public var fingerprint: String {
        "\(id)|\(status)|\(guestsCount)|\(updated)"
    }

    /// The statuses that hold tickets.
    public static let holdingStatuses: Set<String> = ["YES", "ATTENDED"]
}
