import Foundation
import Testing
import TrafficPolice
import TrafficPoliceCore

@Suite(.timeLimit(.minutes(1))) struct MeetupDeliveryHandlerTests {
    private func job(_ meetup: String, _ id: String, _ status: String, guests: Int = 0, at updated: String)
        -> WebhookDelivery
    {
        MeetupRSVPDelivery(
            meetupEventID: meetup, rsvp: MeetupRSVP(id: id, status: status, guestsCount: guests, updated: updated)
        ).delivery(receivedAtMilliseconds: 0)
    }

    private func linked(_ stack: TestStack) async throws -> (EventID, String) {
        let event = try TestServers.eventID("muh")
        let meetup = "mu-\(UUID().uuidString.lowercased())"
        try await stack.desk.create(id: event, name: "Meetup handler", policy: try CapacityPolicy(capacity: 100), split: .equal)
        try await stack.desk.link(event, platform: .meetup, platformEventID: meetup, ticketClassID: nil)
        return (event, meetup)
    }

    private func sold(_ stack: TestStack, _ event: EventID) async throws -> Int? {
        try await stack.desk.snapshot(event).platforms["meetup"]?.sold
    }

    @Test func theBodyRoundTripsAndMalformedBodiesAreRejected() throws {
        let rsvp = MeetupRSVP(id: "4000000001", status: "YES", guestsCount: 2, updated: "2026-05-01T10:00:00.000Z")
        let delivery = MeetupRSVPDelivery(meetupEventID: "300000001", rsvp: rsvp)
        #expect(
            delivery.body
                == #"{"eventId":"300000001","rsvp":{"guestsCount":2,"id":"4000000001","status":"YES","updated":"2026-05-01T10:00:00.000Z"}}"#
        )
        #expect(try MeetupRSVPDelivery.parse(delivery.body) == delivery)
        #expect(delivery.dedupeKey == "meetup:4000000001|YES|2|2026-05-01T10:00:00.000Z")
        for bad in [
            "not json", "{}", #"{"eventId":"","rsvp":{"id":"1","status":"YES","guestsCount":0,"updated":"u"}}"#,
            #"{"eventId":"e","rsvp":{"id":" ","status":"YES","guestsCount":0,"updated":"u"}}"#,
            #"{"eventId":"e","rsvp":{"id":"1","status":"YES","guestsCount":-1,"updated":"u"}}"#,
            #"{"eventId":"e","rsvp":{"id":"1","status":"","guestsCount":0,"updated":"u"}}"#,
        ] {
            #expect(throws: MalformedPayload.self) { try MeetupRSVPDelivery.parse(bad) }
        }
    }

    @Test func yesReservesNoReleasesAndRepeatsChangeNothing() async throws {
        try await TestStack.with { stack in
            let handler = OrderDeliveryHandler(desk: stack.desk)
            let (event, meetup) = try await linked(stack)
            #expect(try await handler.handle(job(meetup, "1", "YES", guests: 2, at: "u1")) == .applied("accepted × 3"))
            #expect(try await handler.handle(job(meetup, "1", "YES", guests: 2, at: "u1")) == .applied("accepted (repeat) × 3"))
            #expect(try await handler.handle(job(meetup, "1", "ATTENDED", guests: 2, at: "u2")) == .applied("accepted (repeat) × 3"))
            #expect(try await sold(stack, event) == 3)
            #expect(try await handler.handle(job(meetup, "1", "NO", at: "u3")) == .applied("NO: released"))
            #expect(try await handler.handle(job(meetup, "1", "NO", at: "u3")) == .applied("NO: holds nothing"))
            #expect(try await sold(stack, event) == 0)
            let order = try await stack.ledger.order(event, platform: .meetup, orderID: "1")
            #expect(order?.released == true && order?.quantity == 3)
        }
    }

    @Test func waitlistAndNoOfAnUnknownRSVPHoldNothingAndYesLaterIsReserved() async throws {
        try await TestStack.with { stack in
            let handler = OrderDeliveryHandler(desk: stack.desk)
            let (event, meetup) = try await linked(stack)
            #expect(try await handler.handle(job(meetup, "2", "WAITLIST", at: "u1")) == .applied("WAITLIST: holds nothing"))
            #expect(try await handler.handle(job(meetup, "3", "NO", at: "u1")) == .applied("NO: holds nothing"))
            // Promoted from the waitlist; the member who said NO changes their mind.
            #expect(try await handler.handle(job(meetup, "2", "YES", at: "u2")) == .applied("accepted × 1"))
            #expect(try await handler.handle(job(meetup, "3", "YES", guests: 1, at: "u2")) == .applied("accepted × 2"))
            #expect(try await sold(stack, event) == 3)
        }
    }

    @Test func aChangeOfGuestsAndAYesAfterNoAreAmendments() async throws {
        try await TestStack.with { stack in
            let handler = OrderDeliveryHandler(desk: stack.desk)
            let (event, meetup) = try await linked(stack)
            let t = { (second: Int) in "2026-05-01T10:00:\(String(format: "%02d", second)).000Z" }
            #expect(try await handler.handle(job(meetup, "4", "YES", guests: 0, at: t(1))) == .applied("accepted × 1"))
            #expect(try await handler.handle(job(meetup, "4", "YES", guests: 2, at: t(2))) == .applied("increased 1 → 3 (accepted)"))
            #expect(try await sold(stack, event) == 3)
            #expect(try await handler.handle(job(meetup, "4", "YES", guests: 1, at: t(3))) == .applied("decreased 3 → 2"))
            #expect(try await sold(stack, event) == 2)
            #expect(try await handler.handle(job(meetup, "4", "NO", at: t(4))) == .applied("NO: released"))
            #expect(try await sold(stack, event) == 0)
            // A retried job of an older state changes nothing (its `updated` is older).
            #expect(try await handler.handle(job(meetup, "4", "YES", guests: 1, at: t(3))) == .applied("stale (an older version): holds 0"))
            #expect(try await handler.handle(job(meetup, "4", "YES", at: t(5))) == .applied("accepted × 1"))
            #expect(try await sold(stack, event) == 1)
            let order = try await stack.ledger.order(event, platform: .meetup, orderID: "4")
            #expect(order?.heldQuantity == 1 && order?.released == false)
            // More guests than anything can cover: refused, the RSVP keeps its ticket.
            #expect(
                try await handler.handle(job(meetup, "4", "YES", guests: 60, at: t(6)))
                    == .applied("refused 1 → 61: overbooked, holds 1"))
            #expect(try await sold(stack, event) == 1)
        }
    }

    @Test func unlinkedEventsAreIgnoredAndUnknownKindsRejected() async throws {
        try await TestStack.with { stack in
            let handler = OrderDeliveryHandler(desk: stack.desk)
            guard case .ignored = try await handler.handle(job("mu-nobody-\(UUID())", "5", "YES", at: "u1")) else {
                Issue.record("a Meetup event no one linked is ignored")
                return
            }
            var delivery = job("x", "5", "YES", at: "u1")
            delivery.kind = "event"
            guard case .rejected = try await handler.handle(delivery) else {
                Issue.record("an unknown kind is rejected")
                return
            }
            delivery.kind = "rsvp"
            delivery.body = "{"
            guard case .rejected = try await handler.handle(delivery) else {
                Issue.record("a malformed body is rejected")
                return
            }
        }
    }
}
