import CurlBridge
import Foundation
import PlatformClients
import Testing

private let eventbrite = PlatformEndpoint(platform: .eventbrite, credential: PlatformCredential("eb-token"))
private let luma = PlatformEndpoint(platform: .luma, credential: PlatformCredential("luma-key"))
private let meetup = PlatformEndpoint(platform: .meetup, credential: PlatformCredential("mu-token"))

private func header(_ request: HTTPRequest, _ name: String) -> String? {
    request.headers.first { $0.name.lowercased() == name.lowercased() }?.value
}

/// The JSON object in a request body.
private func json(_ request: PlatformRequest) throws -> NSDictionary {
    let body = try #require(request.body)
    return try #require(try JSONSerialization.jsonObject(with: Data(body)) as? NSDictionary)
}

@Suite("Request building")
struct RequestBuildingTests {
    @Test func endpointDefaultsAndRedaction() {
        #expect(eventbrite.baseURL == "https://www.eventbriteapi.com/v3")
        #expect(luma.baseURL == "https://public-api.luma.com")
        #expect(meetup.baseURL == "https://api.meetup.com/gql-ext")
        #expect(eventbrite.verifyTLS)
        #expect(eventbrite.connectTimeout == .seconds(5))
        #expect(eventbrite.timeout == .seconds(20))
        let trimmed = PlatformEndpoint(platform: .luma, credential: .init("k"), baseURL: "http://127.0.0.1:9/")
        #expect(trimmed.baseURL == "http://127.0.0.1:9")
        for text in ["\(eventbrite)", String(reflecting: eventbrite), "\(eventbrite.credential)",
                     String(reflecting: eventbrite.credential), "\(Mirror(reflecting: eventbrite.credential).children.count)"]
        {
            #expect(!text.contains("eb-token"))
        }
    }

    @Test func eventbriteOrder() {
        let request = EventbriteCalls.order(id: "1546689753").request
        #expect(request.method == "GET")
        #expect(request.cost == 1)
        let http = request.httpRequest(for: eventbrite)
        #expect(http.url == "https://www.eventbriteapi.com/v3/orders/1546689753/?expand=attendees")
        #expect(header(http, "Authorization") == "Bearer eb-token")
        #expect(header(http, "Accept") == "application/json")
        #expect(header(http, "Content-Type") == nil)
        #expect(http.body == nil)
        #expect(http.verifyTLS && http.timeout == .seconds(20) && http.connectTimeout == .seconds(5))
        #expect(EventbriteCalls.order(id: "1", expandAttendees: false).request.target == "/orders/1/")
    }

    @Test func eventbriteIDsCannotEscapeThePath() {
        #expect(EventbriteCalls.order(id: "1/../x?y=1").request.target == "/orders/1%2F..%2Fx%3Fy%3D1/?expand=attendees")
    }

    @Test func eventbriteListsEncodeChangedSinceAndContinuation() {
        let since = Date(timeIntervalSince1970: 1_526_090_400)  // 2018-05-12T02:00:00Z
        let orders = EventbriteCalls.eventOrders(
            eventID: "717926867587", status: .allNotDeleted, changedSince: since, continuation: "AEtF+yiW/xk=").request
        #expect(orders.target == "/events/717926867587/orders/?status=all_not_deleted"
                + "&changed_since=2018-05-12T02%3A00%3A00Z&continuation=AEtF%2ByiW%2Fxk%3D")
        let attendees = EventbriteCalls.attendees(eventID: "7", status: .notAttending).request
        #expect(attendees.target == "/events/7/attendees/?status=not_attending")
        #expect(EventbriteCalls.attendees(eventID: "7").request.target == "/events/7/attendees/")
        #expect(orders.cost == 1 && attendees.cost == 1)
    }

    @Test func eventbriteIncrementalOrderReadsSendLastItemSeenAndExpand() {
        let since = Date(timeIntervalSince1970: 1_526_090_400)
        let orders = EventbriteCalls.eventOrders(
            eventID: "7", changedSince: since, continuation: "ZWI6Mg==", lastItemSeen: "1000000004",
            expandAttendees: true
        ).request
        #expect(orders.target == "/events/7/orders/?changed_since=2018-05-12T02%3A00%3A00Z&continuation=ZWI6Mg%3D%3D"
                + "&last_item_seen=1000000004&expand=attendees")
        #expect(EventbriteCalls.eventOrders(eventID: "7").request.target == "/events/7/orders/")
    }

    @Test func eventbriteCapacityWrites() throws {
        let ticketClass = EventbriteCalls.updateTicketClassCapacity(eventID: "7", ticketClassID: "99", capacity: 120)
            .request
        #expect(ticketClass.method == "POST")
        #expect(ticketClass.target == "/events/7/ticket_classes/99/")
        #expect(String(decoding: try #require(ticketClass.body), as: UTF8.self) == #"{"ticket_class":{"capacity":120}}"#)
        #expect(header(ticketClass.httpRequest(for: eventbrite), "Content-Type") == "application/json")

        let tier = EventbriteCalls.updateCapacityTier(eventID: "7", capacityTotal: 80).request
        #expect(tier.method == "POST")
        #expect(tier.target == "/events/7/capacity_tier/")
        #expect(String(decoding: try #require(tier.body), as: UTF8.self) == #"{"capacity_tier":{"capacity_total":80}}"#)

        #expect(EventbriteCalls.ticketClass(eventID: "7", ticketClassID: "99").request.target == "/events/7/ticket_classes/99/")
        #expect(EventbriteCalls.capacityTier(eventID: "7").request.method == "GET")
    }

    @Test func lumaReads() {
        let event = LumaCalls.event(id: "evt-123").request
        let http = event.httpRequest(for: luma)
        #expect(http.url == "https://public-api.luma.com/v1/events/get?event_id=evt-123")
        #expect(header(http, "x-luma-api-key") == "luma-key")
        #expect(header(http, "Authorization") == nil)

        let guests = LumaCalls.guests(eventID: "evt-1", approvalStatus: .approved, cursor: "cur+2/==", limit: 50).request
        #expect(guests.target == "/v1/events/guests/list?event_id=evt-1&approval_status=approved"
                + "&pagination_cursor=cur%2B2%2F%3D%3D&pagination_limit=50")
        #expect(LumaCalls.guests(eventID: "evt-1").request.target == "/v1/events/guests/list?event_id=evt-1")
        #expect(LumaCalls.guest(eventID: "evt-1", id: "a+b@example.com").request.target
                == "/v1/events/guests/get?event_id=evt-1&id=a%2Bb%40example.com")
        #expect(LumaCalls.ticketTypes(eventID: "evt-1", includeHidden: true).request.target
                == "/v1/events/ticket-types/list?event_id=evt-1&include_hidden=true")
        #expect(guests.cost == 1)
    }

    @Test func lumaWrites() throws {
        let update = LumaCalls.updateEvent(id: "evt-1", maxCapacity: 120).request
        #expect(update.method == "POST")
        #expect(update.target == "/v1/events/update")
        #expect(String(decoding: try #require(update.body), as: UTF8.self) == #"{"event_id":"evt-1","max_capacity":120}"#)
        let unlimited = LumaCalls.updateEvent(id: "evt-1", maxCapacity: nil).request
        #expect(String(decoding: try #require(unlimited.body), as: UTF8.self) == #"{"event_id":"evt-1","max_capacity":null}"#)

        let status = LumaCalls.updateGuestStatus(eventID: "evt-1", guestID: "gst-2", status: .declined).request
        #expect(status.target == "/v1/events/guests/update-status")
        #expect(String(decoding: try #require(status.body), as: UTF8.self)
                == #"{"event_id":"evt-1","guest_id":"gst-2","status":"declined"}"#)
    }

    @Test func meetupRsvpQuery() throws {
        let request = MeetupCalls.rsvps(eventID: "305123456", after: "MA==", first: 50).request
        #expect(request.method == "POST")
        #expect(request.target == "")
        #expect(request.cost == 51)
        let http = request.httpRequest(for: meetup)
        #expect(http.url == "https://api.meetup.com/gql-ext")
        #expect(header(http, "Authorization") == "Bearer mu-token")
        #expect(header(http, "Content-Type") == "application/json")
        let body = try json(request)
        #expect(body["query"] as? String == MeetupDocuments.rsvps)
        let variables = try #require(body["variables"] as? NSDictionary)
        #expect(variables == ["id": "305123456", "after": "MA==", "first": 50] as NSDictionary)

        let first = try json(MeetupCalls.rsvps(eventID: "9", first: 0).request)
        #expect(first["variables"] as? NSDictionary == ["id": "9", "first": 1] as NSDictionary)
    }

    @Test func meetupRsvpQueryDocumentIsTheAgreedOne() {
        #expect(MeetupDocuments.rsvps
                == "query($id: ID!, $after: String, $first: Int!) { event(id: $id) { id status maxTickets waitlistMode "
                + "rsvpSettings { rsvpOpenTime rsvpCloseTime rsvpsClosed } rsvps(first: $first, after: $after, "
                + "filter: {rsvpStatus: [YES, WAITLIST, NO]}, sort: {sortField: DATETIME, sortOrder: DESC}) { totalCount yesCount waitlistCount noCount pageInfo "
                + "{ hasNextPage endCursor } edges { cursor node { id status guestsCount updated isHost payStatus "
                + "member { id name } } } } } }")
    }

    @Test func meetupCustomStatusesUseTheVariableDocument() throws {
        let body = try json(MeetupCalls.rsvps(eventID: "9", first: 10, statuses: [.yes, .attended]).request)
        #expect(body["query"] as? String == MeetupDocuments.rsvpsWithStatuses)
        #expect((body["variables"] as? NSDictionary)?["statuses"] as? [String] == ["YES", "ATTENDED"])
    }

    @Test func meetupMutations() throws {
        let edit = MeetupCalls.editEvent(eventID: "305123456", rsvpLimit: 42).request
        #expect(edit.cost == 6)
        let editBody = try json(edit)
        #expect(editBody["query"] as? String == MeetupDocuments.editEvent)
        #expect(editBody["variables"] as? NSDictionary
                == ["input": ["eventId": "305123456", "rsvpSettings": ["rsvpLimit": 42]]] as NSDictionary)

        for (call, document) in [
            (MeetupCalls.closeEventRsvps(eventID: "1"), MeetupDocuments.closeEventRsvps),
            (MeetupCalls.openEventRsvps(eventID: "1"), MeetupDocuments.openEventRsvps),
        ] {
            let body = try json(call.request)
            #expect(body["query"] as? String == document)
            #expect(body["variables"] as? NSDictionary == ["input": ["eventId": "1"]] as NSDictionary)
            #expect(call.request.cost == 6)
        }
    }
}

@Suite("Meetup point costs")
struct MeetupCostTests {
    @Test func estimatesAndActuals() {
        #expect(MeetupCost.queryEstimate(first: 50) == 51)
        #expect(MeetupCost.queryEstimate(first: 200) == 201)
        #expect(MeetupCost.queryActual(nodesReturned: 4) == 5)
        #expect(MeetupCost.queryActual(nodesReturned: 0) == 1)
        #expect(MeetupCost.mutation == 6)
    }

    @Test(arguments: [
        ("YES", 0, 1), ("YES", 2, 3), ("ATTENDED", 1, 2), ("WAITLIST", 3, 0), ("NO", 1, 0),
        ("YES_PENDING_PAYMENT", 1, 0), ("NO_SHOW", 0, 0), ("YES", -1, 1),
    ])
    func rsvpQuantity(status: String, guests: Int, expected: Int) {
        #expect(MeetupRsvpStatus.quantity(status: MeetupRsvpStatus(rawValue: status), guestsCount: guests) == expected)
    }
}
