import Testing

@testable import PlatformSimulator

/// `last_item_seen` on Eventbrite's order list and `sort` on Meetup's RSVPs: what the order resolver
/// and the Meetup poller read incrementally.
@Suite struct IncrementalReadTests {
    let eventbriteAuth = [("Authorization", "Bearer eb-token")]

    func orders(_ state: inout SimulatorState, _ query: String, now: Double) -> JSON? {
        state.handleAPI(
            SimRequest(method: "GET", uri: "/eventbrite/v3/events/e/orders/?" + query, headers: eventbriteAuth),
            now: now
        ).0.json
    }

    @Test func eventbriteLastItemSeenKeepsLaterOrdersSortedWithAttendees() throws {
        var state = SimulatorState()
        _ = state.createEvent(["platform": "eventbrite", "id": "e", "capacity": nil], now: 0)
        for n in 0..<6 { _ = state.placeSale(platform: .eventbrite, eventID: "e", quantity: 1 + n % 2, buyer: nil, now: Double(n)) }
        let all = try #require(orders(&state, "changed_since=1970-01-01T00:00:00Z&expand=attendees", now: 10))
        let ids = (all["orders"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
        #expect(ids.count == 6 && ids == ids.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) })
        #expect(all["orders"]?.arrayValue?.map { $0["attendees"]?.arrayValue?.count ?? -1 } == [1, 2, 1, 2, 1, 2])

        let later = try #require(orders(&state, "changed_since=1970-01-01T00:00:00Z&last_item_seen=\(ids[3])", now: 10))
        #expect((later["orders"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue } == Array(ids[4...]))
        #expect(later["orders"]?.arrayValue?.first?["attendees"] == nil)
        // Only together with changed_since (platforms.md 1.3).
        let alone = try #require(orders(&state, "last_item_seen=\(ids[3])", now: 10))
        #expect(alone["orders"]?.arrayValue?.count == 6)
        let bad = state.handleAPI(
            SimRequest(method: "GET", uri: "/eventbrite/v3/events/e/orders/?last_item_seen=x", headers: eventbriteAuth),
            now: 10
        ).0
        #expect(bad.status == 400 && bad.json?["error"] == "ARGUMENTS_ERROR")
    }

    @Test func meetupUpdatedIsStrictlyIncreasingWithinOneMillisecond() throws {
        var store = MeetupStore()
        store.createEvent(id: "m", capacity: 2, now: 0)
        let a = try store.rsvp(eventID: "m", quantity: 1, buyer: .numbered(1), now: 100).get()
        let b = try store.rsvp(eventID: "m", quantity: 1, buyer: .numbered(2), now: 100).get()
        let c = try store.rsvp(eventID: "m", quantity: 1, buyer: .numbered(3), now: 100).get()
        #expect(a.updatedMs == 100_000 && b.updatedMs == 100_001 && c.status == "WAITLIST" && c.updatedMs == 100_002)
        #expect(store.cancel(a.id, now: 100) == [c.id])
        #expect(store.rsvps[a.id]?.updatedMs == 100_003 && store.rsvps[c.id]?.updatedMs == 100_004)
        #expect(store.setGuests(b.id, guestsCount: 1, now: 100) == nil)  // full
        #expect(store.setGuests(b.id, guestsCount: 0, now: 100.5) == [])
        #expect(store.rsvps[b.id]?.updatedMs == 100_500)
        #expect(Timestamps.milliseconds(epochMilliseconds: 1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
        #expect(store.rsvps(of: "m", statuses: ["YES", "NO"], sort: .updated, descending: true).map(\.id) == [b.id, c.id, a.id])
        #expect(store.rsvps(of: "m", statuses: ["YES", "NO"]).map(\.id) == [a.id, b.id, c.id])
    }

    @Test func meetupSortArgumentOrdersRsvpsAndRejectsUnknownFields() throws {
        var state = SimulatorState()
        _ = state.createEvent(["platform": "meetup", "id": "m", "capacity": nil], now: 0)
        var ids: [String] = []
        for n in 0..<3 {
            let (answer, _) = state.placeSale(platform: .meetup, eventID: "m", quantity: 1, buyer: nil, now: Double(n))
            ids.append(try #require(answer["sale"]?["meetup"]?["rsvp_id"]?.stringValue))
        }
        _ = state.meetup.cancel(ids[0], now: 5)
        func query(_ sort: String) -> JSON? {
            let body: JSON = [
                "query": .string("{ event(id: \"m\") { rsvps(first: 10, filter: {rsvpStatus: [YES, NO]}\(sort)) { edges { node { id } } } } }")
            ]
            let request = SimRequest(
                method: "POST", uri: "/meetup/gql-ext", headers: [("Authorization", "Bearer meetup-token")],
                body: body.serialized())
            return state.handleAPI(request, now: 10).0.json
        }
        func listed(_ json: JSON?) -> [String] {
            (json?["data"]?["event"]?["rsvps"]?["edges"]?.arrayValue ?? []).compactMap { $0["node"]?["id"]?.stringValue }
        }
        #expect(listed(query("")) == ids)
        #expect(listed(query(", sort: {sortField: DATETIME, sortOrder: DESC}")) == [ids[0], ids[2], ids[1]])
        #expect(listed(query(", sort: {sortField: DATETIME, sortOrder: ASC}")) == [ids[1], ids[2], ids[0]])
        #expect(listed(query(", sort: {sortField: RSVP_ID, sortOrder: DESC}")) == ids.reversed())
        let bad = query(", sort: {sortField: NAME}")
        #expect(bad?["errors"]?.arrayValue?.first?["extensions"]?["code"] == "BAD_USER_INPUT")
    }
}
