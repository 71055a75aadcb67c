import CurlBridge
import Foundation
import PlatformClients
import Synchronization
import Testing
import TrafficPoliceCore

/// Runs `body` with a canned server, a CurlClient, and an endpoint for `platform` pointing at the server
/// (the base URL carries a prefix, to check that paths are appended to it).
private func withPlatform<T>(
    _ platform: Platform, prefix: String = "", timeout: Duration = .seconds(10),
    respond: @escaping CannedHTTPServer.Responder,
    _ body: (CannedHTTPServer, CurlClient, PlatformEndpoint) async throws -> T
) async throws -> T {
    try await CannedHTTPServer.with(respond) { server in
        let client = CurlClient()
        let endpoint = PlatformEndpoint(
            platform: platform, credential: PlatformCredential("secret-\(platform.rawValue)"),
            baseURL: server.url(prefix), timeout: timeout)
        do {
            let result = try await body(server, client, endpoint)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

@Suite("Platform clients through libcurl against a loopback server", .timeLimit(.minutes(1)))
struct ClientLoopbackTests {
    // MARK: Eventbrite

    @Test func eventbriteHappyPathAndAdmission() async throws {
        let admitted = Mutex<[Int]>([])
        try await withPlatform(.eventbrite, prefix: "/v3") { request in
            switch (request.method, request.path) {
            case ("GET", "/v3/orders/1546689753/"): .json(200, Fixtures.eventbriteOrder)
            case ("POST", "/v3/events/7/ticket_classes/1405419289/"): .json(200, Fixtures.ticketClass)
            case ("POST", "/v3/events/7/capacity_tier/"): .json(200, Fixtures.capacityTier)
            default: .json(404, Fixtures.eventbriteError("NOT_FOUND", "nothing at \(request.uri)", 404))
            }
        } _: { server, curl, endpoint in
            let client = EventbriteClient(client: curl, endpoint: endpoint) { request in
                admitted.withLock { $0.append(request.cost) }
            }
            let order = try await client.order(id: "1546689753")
            #expect(order.quantity == 2)
            let ticketClass = try await client.updateTicketClassCapacity(
                eventID: "7", ticketClassID: "1405419289", capacity: 120)
            #expect(ticketClass.capacity == 120)
            let tier = try await client.updateCapacityTier(eventID: "7", capacityTotal: 100)
            #expect(tier.capacityTotal == 100)

            let requests = server.requests
            #expect(requests.map(\.uri) == [
                "/v3/orders/1546689753/?expand=attendees", "/v3/events/7/ticket_classes/1405419289/",
                "/v3/events/7/capacity_tier/",
            ])
            #expect(requests.allSatisfy { $0.header("Authorization") == "Bearer secret-eventbrite" })
            #expect(requests[1].bodyText == #"{"ticket_class":{"capacity":120}}"#)
            #expect(requests[1].header("Content-Type") == "application/json")
            #expect(requests[2].bodyText == #"{"capacity_tier":{"capacity_total":100}}"#)
            #expect(admitted.withLock { $0 } == [1, 1, 1])
        }
    }

    @Test func eventbriteFollowsContinuationToTheEnd() async throws {
        try await withPlatform(.eventbrite, prefix: "/v3") { request in
            switch request.uri {
            case "/v3/events/7/attendees/?status=attending":
                .json(200, Fixtures.attendeePage(ids: ["a1", "a2"], continuation: "tok+1/=", hasMore: true, page: 1))
            case "/v3/events/7/attendees/?status=attending&continuation=tok%2B1%2F%3D":
                .json(200, Fixtures.attendeePage(ids: ["a3"], continuation: nil, hasMore: false, page: 2))
            default: .json(400, Fixtures.eventbriteError("BAD_CONTINUATION_TOKEN", request.uri, 400))
            }
        } _: { server, curl, endpoint in
            let client = EventbriteClient(client: curl, endpoint: endpoint)
            let all = try await client.allAttendees(eventID: "7", status: .attending)
            #expect(all.map(\.id) == ["a1", "a2", "a3"])
            #expect(server.requests.count == 2)
        }
    }

    @Test func eventbritePageBoundAndRepeatedCursor() async throws {
        try await withPlatform(.eventbrite) { _ in
            .json(200, Fixtures.attendeePage(ids: ["a"], continuation: "same", hasMore: true, page: 1))
        } _: { server, curl, endpoint in
            let client = EventbriteClient(client: curl, endpoint: endpoint)
            let bounded = await callError { try await client.allAttendees(eventID: "7", maxPages: 1) }
            #expect(bounded == .permanent(status: 0, code: "PAGE_LIMIT", message: "more than 1 pages; stopped"))
            let looping = await callError { try await client.allAttendees(eventID: "7") }
            #expect(looping == .malformedResponse(field: "pagination.continuation", why: "cursor 'same' repeated"))
            #expect(server.requests.count == 3)
        }
    }

    @Test func eventbriteFailures() async throws {
        try await withPlatform(.eventbrite) { request in
            switch request.path {
            case "/orders/limited/":
                .json(429, Fixtures.eventbriteError("HIT_RATE_LIMIT", "Hourly rate limit has been reached", 429),
                      headers: [(name: "Retry-After", value: "120")])
            case "/orders/broken/": CannedResponse(status: 500, body: "Internal Server Error")
            case "/orders/garbled/": .json(200, #"{"id": 12"#)
            case "/orders/slow/": CannedResponse(status: 200, body: "{}", delay: .seconds(10))
            default: .json(404, Fixtures.eventbriteError("NOT_FOUND", "The order you requested does not exist.", 404))
            }
        } _: { _, curl, endpoint in
            let client = EventbriteClient(client: curl, endpoint: endpoint)
            let limited = await callError { try await client.order(id: "limited") }
            #expect(limited == .rateLimited(
                retryAfter: .seconds(120), resetAt: nil, detail: "HIT_RATE_LIMIT: Hourly rate limit has been reached"))
            #expect(limited?.retryAdvice(now: Date()) == .after(.seconds(120)))

            let broken = await callError { try await client.order(id: "broken") }
            #expect(broken == .retryable(status: 500, detail: "Internal Server Error"))

            let missing = await callError { try await client.order(id: "missing") }
            #expect(missing == .permanent(status: 404, code: "NOT_FOUND", message: "The order you requested does not exist."))

            let garbled = await callError { try await client.order(id: "garbled") }
            guard case .malformedResponse(let field, _) = garbled else {
                Issue.record("expected malformedResponse, got \(String(describing: garbled))")
                return
            }
            #expect(field == "body")

            var quick = endpoint
            quick.timeout = .milliseconds(300)
            let slow = await callError { try await EventbriteClient(client: curl, endpoint: quick).order(id: "slow") }
            guard case .retryable(nil, let detail) = slow else {
                Issue.record("expected a retryable timeout, got \(String(describing: slow))")
                return
            }
            #expect(detail.hasPrefix("timeout"))
        }
    }

    @Test func connectionRefusedIsRetryable() async throws {
        let url = try await CannedHTTPServer.with({ _ in .json(200, "{}") }) { $0.url() }
        let curl = CurlClient()
        let endpoint = PlatformEndpoint(platform: .luma, credential: .init("k"), baseURL: url)
        let error = await callError { try await LumaClient(client: curl, endpoint: endpoint).event(id: "evt-1") }
        await curl.shutdown()
        #expect(Class(error) == .retryable)
    }

    // MARK: Luma

    @Test func lumaHappyPathAndPagination() async throws {
        let secondPage = #"{"entries":[{"id":"gst-zzz","approval_status":"approved","event_tickets":[\#(Fixtures.lumaTicket("t9"))]}],"has_more":false}"#
        try await withPlatform(.luma) { request in
            switch (request.method, request.uri) {
            case ("GET", "/v1/events/get?event_id=evt-123"): .json(200, Fixtures.lumaEvent)
            case ("POST", "/v1/events/update"), ("POST", "/v1/events/guests/update-status"): .json(200, "{}")
            case ("GET", "/v1/events/guests/list?event_id=evt-123&pagination_limit=3"): .json(200, Fixtures.lumaGuestPage)
            case ("GET", "/v1/events/guests/list?event_id=evt-123&pagination_cursor=cur%2B2%2F%3D%3D&pagination_limit=3"):
                .json(200, secondPage)
            case ("GET", "/v1/events/guests/get?event_id=evt-123&id=gst-zzz"):
                .json(200, #"{"id":"gst-zzz","approval_status":"approved","event_tickets":[],"event_ticket_orders":[]}"#)
            case ("GET", "/v1/events/ticket-types/list?event_id=evt-123"): .json(200, Fixtures.lumaTicketTypes)
            default: .json(404, #"{"message":"Not found: \#(request.uri)"}"#)
            }
        } _: { server, curl, endpoint in
            let client = LumaClient(client: curl, endpoint: endpoint)
            #expect(try await client.event(id: "evt-123").name == "Launch")
            try await client.updateEvent(id: "evt-123", maxCapacity: 120)
            let guests = try await client.allGuests(eventID: "evt-123", limit: 3)
            #expect(guests.map(\.id) == ["gst-abc", "gst-def", "gst-ghi", "gst-zzz"])
            #expect(guests.filter(\.holdsTickets).map(\.quantity).reduce(0, +) == 4)
            #expect(try await client.guest(eventID: "evt-123", id: "gst-zzz").quantity == 0)
            #expect(try await client.ticketTypes(eventID: "evt-123").count == 2)
            try await client.updateGuestStatus(eventID: "evt-123", guestID: "gst-def", status: .declined)

            let requests = server.requests
            #expect(requests.count == 7)
            #expect(requests.allSatisfy { $0.header("x-luma-api-key") == "secret-luma" && $0.header("Authorization") == nil })
            #expect(requests[1].bodyText == #"{"event_id":"evt-123","max_capacity":120}"#)
            #expect(requests[6].bodyText == #"{"event_id":"evt-123","guest_id":"gst-def","status":"declined"}"#)
        }
    }

    @Test func lumaFailures() async throws {
        try await withPlatform(.luma) { request in
            switch request.uri {
            case "/v1/events/get?event_id=limited":
                .json(429, #"{"message":"Rate limit exceeded"}"#, headers: [
                    (name: "Retry-After", value: "60"), (name: "X-RateLimit-Limit", value: "200"),
                    (name: "X-RateLimit-Remaining", value: "0"), (name: "X-RateLimit-Reset", value: "1767225660"),
                ])
            case "/v1/events/get?event_id=broken": .json(502, #"{"message":"Bad gateway"}"#)
            case "/v1/events/get?event_id=forbidden": .json(401, #"{"message":"Invalid API key"}"#)
            default: .json(404, #"{"message":"Event not found"}"#)
            }
        } _: { _, curl, endpoint in
            let client = LumaClient(client: curl, endpoint: endpoint)
            let limited = await callError { try await client.event(id: "limited") }
            #expect(limited == .rateLimited(
                retryAfter: .seconds(60), resetAt: Date(timeIntervalSince1970: 1_767_225_660), detail: "Rate limit exceeded"))
            #expect(await callError { try await client.event(id: "broken") } == .retryable(status: 502, detail: "Bad gateway"))
            #expect(await callError { try await client.event(id: "forbidden") } == .unauthorized(status: 401, message: "Invalid API key"))
            #expect(await callError { try await client.event(id: "nope") } == .permanent(status: 404, code: nil, message: "Event not found"))
        }
    }

    // MARK: Meetup

    @Test func meetupHappyPathPaginationAndMutations() async throws {
        try await withPlatform(.meetup, prefix: "/gql-ext") { request in
            guard request.method == "POST", request.path == "/gql-ext" else { return .json(404, "{}") }
            let text = request.bodyText
            if text.contains("editEvent") { return .json(200, Fixtures.meetupEditEventOK) }
            if text.contains("closeEventRsvps") {
                return .json(200, #"{"data":{"closeEventRsvps":{"event":{"id":"305123456"},"errors":[]}}}"#)
            }
            if text.contains(#""after":"Mg==""#) {
                return .json(200, Fixtures.meetupRsvpPage(
                    edges: [Fixtures.meetupRsvp("3", "NO", guests: 0), Fixtures.meetupRsvp("4", "YES", guests: 1)],
                    hasNextPage: false, endCursor: "Mw=="))
            }
            return .json(200, Fixtures.meetupRsvpPage(
                edges: [Fixtures.meetupRsvp("1", "YES", guests: 2), Fixtures.meetupRsvp("2", "WAITLIST", guests: 0)],
                hasNextPage: true, endCursor: "Mg=="))
        } _: { server, curl, endpoint in
            let client = MeetupClient(client: curl, endpoint: endpoint)
            let page = try await client.rsvps(eventID: "305123456", first: 2)
            #expect(page.cost == 3 && page.hasNextPage && page.endCursor == "Mg==")
            let all = try await client.allRsvps(eventID: "305123456", first: 2)
            #expect(all.map(\.id) == ["1", "2", "3", "4"])
            #expect(all.map(\.quantity).reduce(0, +) == 5)
            let edited = try await client.editEvent(eventID: "305123456", rsvpLimit: 42)
            #expect(edited.maxTickets == 42 && edited.cost == 6)
            #expect(try await client.closeEventRsvps(eventID: "305123456").eventID == "305123456")

            let requests = server.requests
            #expect(requests.count == 5)
            #expect(requests.allSatisfy { $0.header("Authorization") == "Bearer secret-meetup" })
            #expect(requests.allSatisfy { $0.header("Content-Type") == "application/json" })
            #expect(requests[0].bodyText.contains(#""first":2"#))
        }
    }

    @Test func meetupFailures() async throws {
        try await withPlatform(.meetup) { request in
            if request.bodyText.contains("closeEventRsvps") { return .json(200, Fixtures.meetupRateLimited) }
            if request.bodyText.contains("editEvent") { return .json(200, Fixtures.meetupEditEventPayloadError) }
            if request.bodyText.contains(#""id":"boom""#) { return CannedResponse(status: 503, body: "unavailable") }
            return .json(200, #"{"data":{"event":"#)
        } _: { _, curl, endpoint in
            let client = MeetupClient(client: curl, endpoint: endpoint)
            let limited = await callError { try await client.closeEventRsvps(eventID: "1") }
            let resetAt = Date(timeIntervalSince1970: 1_639_334_271.644)
            guard case .rateLimited(nil, let reset?, _) = limited else {
                Issue.record("expected rateLimited with resetAt, got \(String(describing: limited))")
                return
            }
            #expect(abs(reset.timeIntervalSince(resetAt)) < 0.001)
            let payload = await callError { try await client.editEvent(eventID: "1", rsvpLimit: -1) }
            #expect(Class(payload) == .permanent)
            #expect(Class(await callError { try await client.rsvps(eventID: "boom") }) == .retryable)
            #expect(Class(await callError { try await client.rsvps(eventID: "1") }) == .malformed)
        }
    }
}
