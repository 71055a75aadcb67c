/// Meetup's state for the simulated events: RSVPs and the rule it enforces — `rsvpLimit` counts
/// 1 + `guestsCount` per YES RSVP (0 = no limit); when full a new RSVP joins the waitlist
/// (`waitlistMode` AUTO, promoted in order when room opens); closed RSVPs refuse everyone. Pure.
public struct MeetupStore: Sendable {
    public struct Event: Sendable {
        public var id: String
        public var created: Double
        /// 0 = no limit.
        public var rsvpLimit: Int
        public var rsvpsClosed = false
        public var rsvpIDs: [String] = []
    }

    public struct Rsvp: Sendable {
        public var id: String
        public var eventID: String
        public var memberID: String
        public var buyer: Buyer
        /// `YES`, `WAITLIST` or `NO`.
        public var status: String
        public var guestsCount: Int
        public var updated: Double

        /// Tickets it holds: 1 + guests while YES.
        public var held: Int { status == "YES" ? 1 + guestsCount : 0 }
    }

    public private(set) var events: [String: Event] = [:]
    public private(set) var rsvps: [String: Rsvp] = [:]
    private var nextRsvp = 4_000_000_001
    private var nextMember = 5_000_001

    public init() {}

    @discardableResult
    public mutating func createEvent(id: String, capacity: Int?, now: Double) -> Event {
        let event = Event(id: id, created: now, rsvpLimit: capacity ?? 0)
        events[id] = event
        return event
    }

    /// Seats taken by YES RSVPs (1 + guests each).
    public func taken(_ eventID: String) -> Int {
        (events[eventID]?.rsvpIDs ?? []).reduce(0) { $0 + (rsvps[$1]?.held ?? 0) }
    }

    private func fits(_ eventID: String, _ quantity: Int) -> Bool {
        guard let event = events[eventID] else { return false }
        return event.rsvpLimit <= 0 || taken(eventID) + quantity <= event.rsvpLimit
    }

    /// RSVPs YES for 1 + (quantity − 1) guests, or WAITLIST when full; refused while RSVPs are closed.
    public mutating func rsvp(eventID: String, quantity: Int, buyer: Buyer, now: Double) -> Result<Rsvp, SaleRefusal> {
        guard let event = events[eventID] else { return .failure(.unknownEvent) }
        guard quantity >= 1 else { return .failure(.badQuantity) }
        guard !event.rsvpsClosed else { return .failure(.closed) }
        let rsvp = Rsvp(
            id: String(nextRsvp), eventID: eventID, memberID: String(nextMember), buyer: buyer,
            status: fits(eventID, quantity) ? "YES" : "WAITLIST", guestsCount: quantity - 1, updated: now)
        nextRsvp += 1
        nextMember += 1
        rsvps[rsvp.id] = rsvp
        events[eventID]?.rsvpIDs.append(rsvp.id)
        return .success(rsvp)
    }

    /// The member changes the RSVP to NO; waitlisted RSVPs that now fit are promoted. Returns the promoted ids.
    public mutating func cancel(_ rsvpID: String, now: Double) -> [String]? {
        guard let rsvp = rsvps[rsvpID], rsvp.status != "NO" else { return nil }
        rsvps[rsvpID]?.status = "NO"
        rsvps[rsvpID]?.updated = now
        return promoteWaitlist(rsvp.eventID, now: now)
    }

    /// `editEvent` `rsvpSettings.rsvpLimit`: returns the old limit and the promoted RSVPs.
    public mutating func setLimit(eventID: String, _ limit: Int, now: Double) -> (old: Int, promoted: [String])? {
        guard let event = events[eventID] else { return nil }
        events[eventID]?.rsvpLimit = limit
        return (event.rsvpLimit, promoteWaitlist(eventID, now: now))
    }

    /// `closeEventRsvps` / `openEventRsvps`.
    public mutating func setClosed(eventID: String, _ closed: Bool) -> Bool {
        guard events[eventID] != nil else { return false }
        events[eventID]?.rsvpsClosed = closed
        return true
    }

    /// AUTO waitlist: promotes waitlisted RSVPs, oldest first, while they fit.
    private mutating func promoteWaitlist(_ eventID: String, now: Double) -> [String] {
        var promoted: [String] = []
        for id in events[eventID]?.rsvpIDs ?? [] {
            guard let rsvp = rsvps[id], rsvp.status == "WAITLIST", fits(eventID, 1 + rsvp.guestsCount) else { continue }
            rsvps[id]?.status = "YES"
            rsvps[id]?.updated = now
            promoted.append(id)
        }
        return promoted
    }

    /// RSVPs of an event in RSVP_ID order whose status is in `statuses`.
    public func rsvps(of eventID: String, statuses: Set<String>) -> [Rsvp] {
        (events[eventID]?.rsvpIDs ?? []).compactMap { rsvps[$0] }.filter { statuses.contains($0.status) }
    }

    /// Count of an event's RSVPs with `status`.
    public func count(_ eventID: String, status: String) -> Int {
        (events[eventID]?.rsvpIDs ?? []).reduce(0) { $0 + (rsvps[$1]?.status == status ? 1 : 0) }
    }
}
