/// Remembers the last state seen of each RSVP of one event and picks out what changed in a page.
///
/// The poller reads RSVPs newest-updated first; a page whose every RSVP changed may have more
/// changes behind it, so ``changes(in:)`` also says whether the next page is worth its points.
/// The first read of an event reports every RSVP (the queue and the reservation are idempotent).
public struct RSVPChangeTracker: Sendable {
    private var seen: [String: String] = [:]

    public init() {}

    /// RSVPs remembered.
    public var count: Int { seen.count }

    /// What changed in `page` since it was last seen, and whether to read the next page.
    public mutating func changes(in page: [MeetupRSVP]) -> (changed: [MeetupRSVP], readOn: Bool) {
        var changed: [MeetupRSVP] = []
        for rsvp in page where seen[rsvp.id] != rsvp.fingerprint {
            seen[rsvp.id] = rsvp.fingerprint
            changed.append(rsvp)
        }
        return (changed, !page.isEmpty && changed.count == page.count)
    }

    /// Forgets an RSVP's state, so it is reported again when next seen (e.g. its job failed).
    public mutating func forget(_ id: String) {
        seen[id] = nil
    }
}
