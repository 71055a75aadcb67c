import Foundation
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
        /// When the RSVP last changed, in whole milliseconds since the epoch: strictly increasing across
        /// the store's changes (new RSVP, status, guests, waitlist promotion), so `DATETIME` sorts are total.
        public var updatedMs: Int64

        /// `updatedMs` in seconds.
        public var updated: Double { Double(updatedMs) / 1000 }

        /// Tickets it holds: 1 + guests while YES.
        public var held: Int { status == "YES" ? 1 + guestsCount : 0 }
    }

    /// A fault a test injects: the next `remaining` mutations of an event answer with this payload error
    /// and change nothing.
    public struct MutationFault: Sendable {
        public var code: String
        public var message: String
        public var remaining: Int
    }

    public private(set) var events: [String: Event] = [:]
    public private(set) var mutationFaults: [String: MutationFault] = [:]
    public private(set) var rsvps: [String: Rsvp] = [:]
    /// RSVP ids grow from the wall-clock millisecond the store was made (× 10,000): unique across
    /// simulators sharing one Redis, as Meetup's are.
    private var nextRsvp = Int(Date().timeIntervalSince1970 * 1000) * 10_000 + 1
    private var nextMember = 5_000_001
    private var lastUpdatedMs: Int64 = 0

    public init() {}

    @discardableResult
    public mutating func createEvent(id: String, capacity: Int?, now: Double) -> Event {
        let event = Event(id: id, created: now, rsvpLimit: capacity ?? 0)
        events[id] = event
        return event
    }

    /// The next `count` mutations of `eventID` answer with a payload error (`count` 0 clears it).
    /// False for an unknown event.
    public mutating func injectMutationErrors(eventID: String, count: Int, code: String, message: String) -> Bool {
        guard events[eventID] != nil else { return false }
        mutationFaults[eventID] = count > 0 ? MutationFault(code: code, message: message, remaining: count) : nil
        return true
    }

    /// The injected fault this mutation of `eventID` answers with, if any (counted down).
    mutating func takeMutationFault(_ eventID: String) -> MutationFault? {
        guard var fault = mutationFaults[eventID] else { return nil }
        fault.remaining -= 1
        mutationFaults[eventID] = fault.remaining > 0 ? fault : nil
        return fault
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
            status: fits(eventID, quantity) ? "YES" : "WAITLIST", guestsCount: quantity - 1, updatedMs: stamp(now))
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
        touch(rsvpID, now: now)
        return promoteWaitlist(rsvp.eventID, now: now)
    }

    /// The member changes the number of guests: refused (false) when a YES RSVP would no longer fit;
    /// fewer guests may let waitlisted RSVPs in. Returns the promoted ids, nil when refused or unknown.
    public mutating func setGuests(_ rsvpID: String, guestsCount: Int, now: Double) -> [String]? {
        guard let rsvp = rsvps[rsvpID], guestsCount >= 0, rsvp.status != "NO" else { return nil }
        if rsvp.status == "YES", guestsCount > rsvp.guestsCount,
            !fits(rsvp.eventID, guestsCount - rsvp.guestsCount)
        {
            return nil
        }
        rsvps[rsvpID]?.guestsCount = guestsCount
        touch(rsvpID, now: now)
        return promoteWaitlist(rsvp.eventID, now: now)
    }

    /// Bumps the RSVP's `updated` for a change at `now`.
    private mutating func touch(_ rsvpID: String, now: Double) {
        let updated = stamp(now)
        rsvps[rsvpID]?.updatedMs = updated
    }

    /// The `updated` of a change at `now`: `now` in whole milliseconds, or 1 ms after the previous
    /// change when that is later (several changes within one millisecond stay ordered).
    private mutating func stamp(_ now: Double) -> Int64 {
        lastUpdatedMs = max(Int64((now * 1000).rounded(.down)), lastUpdatedMs + 1)
        return lastUpdatedMs
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
            touch(id, now: now)
            promoted.append(id)
        }
        return promoted
    }

    /// The orders `Event.rsvps(sort:)` can list in (`RsvpSort`, platforms.md 3.3).
    public enum Sort: Sendable, Equatable {
        /// `RSVP_ID` (the default): by id.
        case rsvpID
        /// `DATETIME`: by `updated`, ties by id.
        case updated

        /// The `sortField` values the simulator honours; nil for others.
        public init?(sortField: String) {
            switch sortField {
            case "RSVP_ID": self = .rsvpID
            case "DATETIME": self = .updated
            default: return nil
            }
        }
    }

    /// RSVPs of an event whose status is in `statuses`, by `sort` (ascending, or descending when `descending`).
    public func rsvps(
        of eventID: String, statuses: Set<String>, sort: Sort = .rsvpID, descending: Bool = false
    ) -> [Rsvp] {
        let list = (events[eventID]?.rsvpIDs ?? []).compactMap { rsvps[$0] }.filter { statuses.contains($0.status) }
        let ascending = list.sorted { a, b in
            let idA = Int(a.id) ?? 0
            let idB = Int(b.id) ?? 0
            switch sort {
            case .rsvpID: return idA < idB
            case .updated: return a.updatedMs != b.updatedMs ? a.updatedMs < b.updatedMs : idA < idB
            }
        }
        return descending ? ascending.reversed() : ascending
    }

    /// Count of an event's RSVPs with `status`.
    public func count(_ eventID: String, status: String) -> Int {
        (events[eventID]?.rsvpIDs ?? []).reduce(0) { $0 + (rsvps[$1]?.status == status ? 1 : 0) }
    }
}
