import Testing

@testable import PlatformSimulator

/// Every recorded capacity change carries what the listing held (`sold`) and, on Meetup, whether
/// RSVPs are closed; `GET /control/capacity-changes` shows both.
@Suite(.timeLimit(.minutes(1))) struct CapacityChangeTests {
    @Test func changesCarrySoldAndClosed() async throws {
        try await RunningSimulator.with { sim in
            _ = try await sim.control("POST", "/control/events", ["platform": "eventbrite", "id": "e1", "capacity": 10, "ticket_class_id": "tc1"])
            _ = try await sim.control("POST", "/control/events", ["platform": "luma", "id": "evt-1", "capacity": 10])
            _ = try await sim.control("POST", "/control/events", ["platform": "meetup", "id": "m1", "capacity": 10])
            for (platform, event, quantity) in [("eventbrite", "e1", 3), ("luma", "evt-1", 2), ("meetup", "m1", 2), ("meetup", "m1", 1)] {
                let sale = try await sim.control("POST", "/control/sales", ["platform": .string(platform), "event_id": .string(event), "quantity": .int(quantity)])
                #expect(sale.json?["outcome"] == "sold")
            }
            let eventbrite = try await sim.eventbrite("POST", "/events/e1/ticket_classes/tc1/", json: ["ticket_class": ["capacity": 5]])
            #expect(eventbrite.status == 200)
            let luma = try await sim.call(
                "POST", "/luma/v1/events/update", port: sim.api.port, headers: [("x-luma-api-key", "luma-key")],
                json: ["event_id": "evt-1", "max_capacity": 4])
            #expect(luma.status == 200)
            let edit = try await sim.meetup(
                "mutation($input: EditEventInput!) { editEvent(input: $input) { event { id } errors { code } } }",
                variables: ["input": ["eventId": "m1", "rsvpSettings": ["rsvpLimit": 6]]])
            #expect(edit.status == 200)
            for mutation in ["closeEventRsvps", "openEventRsvps"] {
                let answer = try await sim.meetup(
                    "mutation($input: \(mutation == "closeEventRsvps" ? "CloseEventRsvpsInput" : "OpenEventRsvpsInput")!) { \(mutation)(input: $input) { event { id } errors { code } } }",
                    variables: ["input": ["eventId": "m1"]])
                #expect(answer.status == 200)
            }

            let changes = try #require(try await sim.control("GET", "/control/capacity-changes").json?["capacity_changes"]?.arrayValue)
            try #require(changes.count == 5, "\(changes)")
            #expect(changes[0]["platform"] == "eventbrite" && changes[0]["sold"] == 3 && changes[0]["closed"] == false)
            #expect(changes[1]["platform"] == "luma" && changes[1]["sold"] == 2 && changes[1]["new"] == 4)
            #expect(changes[2]["call"] == "mutation editEvent" && changes[2]["sold"] == 3 && changes[2]["closed"] == false)
            #expect(changes[3]["call"] == "mutation closeEventRsvps" && changes[3]["sold"] == 3 && changes[3]["closed"] == true)
            #expect(changes[4]["call"] == "mutation openEventRsvps" && changes[4]["sold"] == 3 && changes[4]["closed"] == false)
        }
    }

    /// `POST /control/meetup/mutation-errors`: the next N mutations of the event answer with the payload
    /// error and change nothing; then mutations work again.
    @Test func injectedMeetupMutationErrorsRefuseAndChangeNothing() async throws {
        try await RunningSimulator.with { sim in
            _ = try await sim.control("POST", "/control/events", ["platform": "meetup", "id": "m1", "capacity": 10])
            let unknown = try await sim.control("POST", "/control/meetup/mutation-errors", ["event_id": "m9", "count": 1])
            #expect(unknown.status == 404)
            let injected = try await sim.control(
                "POST", "/control/meetup/mutation-errors", ["event_id": "m1", "count": 2, "code": "FORBIDDEN", "message": "not now"])
            #expect(injected.status == 200)
            let edit = "mutation($input: EditEventInput!) { editEvent(input: $input) { event { id maxTickets } errors { code message } } }"
            for limit in [6, 5] {
                let refused = try await sim.meetup(edit, variables: ["input": ["eventId": "m1", "rsvpSettings": ["rsvpLimit": .int(limit)]]])
                let errors = refused.json?["data"]?["editEvent"]?["errors"]?.arrayValue
                #expect(errors?.first?["code"] == "FORBIDDEN" && errors?.first?["message"] == "not now")
                #expect(refused.json?["data"]?["editEvent"]?["event"]?.isNull == true)
            }
            let changesBefore = try await sim.control("GET", "/control/capacity-changes").json?["capacity_changes"]?.arrayValue
            #expect(changesBefore?.isEmpty == true, "a refused mutation changes nothing")
            let accepted = try await sim.meetup(edit, variables: ["input": ["eventId": "m1", "rsvpSettings": ["rsvpLimit": 4]]])
            #expect(accepted.json?["data"]?["editEvent"]?["event"]?["maxTickets"] == 4)
        }
    }
}
