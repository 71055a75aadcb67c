import Testing

@testable import PlatformSimulator

@Suite struct PaginationAndGraphQLTests {
    func eventbriteWithAttendees(_ count: Int, pageSize: Int) -> (SimulatorState, Double) {
        var configuration = SimulatorConfiguration()
        configuration.eventbritePageSize = pageSize
        var state = SimulatorState(configuration: configuration)
        _ = state.createEvent(["platform": "eventbrite", "id": "e", "capacity": nil], now: 0)
        for n in 0..<count { _ = state.placeSale(platform: .eventbrite, eventID: "e", quantity: 1, buyer: nil, now: Double(n)) }
        return (state, Double(count))
    }

    func get(_ state: inout SimulatorState, _ uri: String, now: Double, headers: [(String, String)] = [("Authorization", "Bearer eb-token")]) -> SimResponse {
        state.handleAPI(SimRequest(method: "GET", uri: uri, headers: headers), now: now).0
    }

    @Test func eventbriteContinuationPagesAndBadToken() throws {
        var (state, now) = eventbriteWithAttendees(5, pageSize: 2)
        var seen: [String] = []
        var uri = "/eventbrite/v3/events/e/attendees/?status=attending"
        while true {
            let json = try #require(get(&state, uri, now: now).json)
            seen += (json["attendees"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            #expect(json["pagination"]?["object_count"] == 5)
            guard json["pagination"]?["has_more_items"] == true, let token = json["pagination"]?["continuation"]?.stringValue else { break }
            uri = "/eventbrite/v3/events/e/attendees/?status=attending&continuation=\(token)"
        }
        #expect(seen.count == 5 && Set(seen).count == 5)
        let bad = get(&state, "/eventbrite/v3/events/e/attendees/?continuation=zzz", now: now)
        #expect(bad.status == 400 && bad.json?["error"] == "BAD_CONTINUATION_TOKEN")
        let since = get(&state, "/eventbrite/v3/events/e/attendees/?changed_since=1970-01-01T00:00:03Z", now: now)
        #expect(since.json?["attendees"]?.arrayValue?.count == 2)
    }

    @Test func lumaCursorPaging() throws {
        var state = SimulatorState()
        _ = state.createEvent(["platform": "luma", "id": "evt-x", "capacity": nil], now: 0)
        for _ in 0..<5 { _ = state.placeSale(platform: .luma, eventID: "evt-x", quantity: 1, buyer: nil, now: 1) }
        var cursor: String?
        var ids: [String] = []
        repeat {
            let uri = "/luma/v1/events/guests/list?event_id=evt-x&pagination_limit=2" + (cursor.map { "&pagination_cursor=\($0)" } ?? "")
            let json = try #require(state.handleAPI(SimRequest(method: "GET", uri: uri, headers: [("x-luma-api-key", "luma-key")]), now: 2).0.json)
            ids += (json["entries"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            cursor = json["has_more"] == true ? json["next_cursor"]?.stringValue : nil
        } while cursor != nil
        #expect(ids.count == 5 && Set(ids).count == 5)
    }

    @Test func meetupCursorsAreBase64Offsets() {
        #expect(OffsetCursor.meetup(0) == "MA==")
        #expect(OffsetCursor.meetupOffset("MQ==") == 1)
        #expect(OffsetCursor.meetupOffset("not base64!") == nil)
    }

    @Test func graphQLRecognisesTheClientDocuments() throws {
        let query = """
            query($id: ID!, $after: String) {
              event(id: $id) {
                id status maxTickets waitlistMode
                rsvpSettings { rsvpOpenTime rsvpCloseTime rsvpsClosed }
                rsvps(first: 200, after: $after, filter: {rsvpStatus: [YES, WAITLIST, NO]}) {
                  totalCount yesCount waitlistCount noCount
                  pageInfo { hasNextPage endCursor }
                  edges { cursor node { id status guestsCount updated isHost payStatus member { id name } } }
                }
              }
            }
            """
        let document = try GraphQLDocument.parse(query)
        #expect(document.operation == .query)
        #expect(MeetupSchema.validate(document) == nil)
        let rsvps = try #require(document.selections.first?.selections.first { $0.name == "rsvps" })
        #expect(rsvps.arguments["first"] == .int(200))
        #expect(rsvps.arguments["after"] == .variable("after"))
        let mutation = try GraphQLDocument.parse(
            #"mutation { editEvent(input: {eventId: "1", rsvpSettings: {rsvpLimit: 50}}) { event { id maxTickets } errors { code field message } } }"#)
        #expect(mutation.operation == .mutation && MeetupSchema.validate(mutation) == nil)
        #expect(MeetupSchema.validate(try GraphQLDocument.parse("{ groupByUrlname(urlname: \"x\") { id } }")) != nil)
        #expect(MeetupSchema.validate(try GraphQLDocument.parse("{ event(id: 1) { rsvps } }")) != nil)
        #expect(throws: GraphQLDocument.SyntaxError.self) { try GraphQLDocument.parse("{ event(id: 1) { ...F } }") }
        #expect(throws: GraphQLDocument.SyntaxError.self) { try GraphQLDocument.parse("subscription { x }") }
        #expect(throws: GraphQLDocument.SyntaxError.self) { try GraphQLDocument.parse("{ event(id: ") }
    }

    @Test func meetupPagingThroughTheStateChargesPoints() throws {
        var state = SimulatorState()
        _ = state.createEvent(["platform": "meetup", "id": "m", "capacity": nil], now: 0)
        for _ in 0..<3 { _ = state.placeSale(platform: .meetup, eventID: "m", quantity: 1, buyer: nil, now: 0) }
        let body: JSON = [
            "query": "query($after: String) { event(id: \"m\") { rsvps(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } } }",
            "variables": ["after": .null],
        ]
        let request = SimRequest(method: "POST", uri: "/meetup/gql-ext", headers: [("Authorization", "Bearer meetup-token")], body: body.serialized())
        let first = try #require(state.handleAPI(request, now: 1).0.json)
        #expect(first["data"]?["event"]?["rsvps"]?["pageInfo"]?["hasNextPage"] == true)
        #expect(first["data"]?["event"]?["rsvps"]?["pageInfo"]?["endCursor"] == "MQ==")
        #expect(state.requests.last?.points == 3)
    }
}
