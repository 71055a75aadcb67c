import Testing
import TrafficPolice

@Suite struct WorkerLumaPayloadTests {
    @Test func theEventIdIsFoundInEveryShape() throws {
        let shapes = [
            #"{"type":"guest.registered","data":{"id":"gst-1","event":{"id":"evt-1"},"event_tickets":[{},{}]}}"#,
            #"{"type":"guest.registered","data":{"id":"gst-1","event_id":"evt-1","event_tickets":[{},{}]}}"#,
            #"{"type":"guest.registered","data":{"id":"gst-1","event":{"api_id":"evt-1"},"event_tickets":[{},{}]}}"#,
        ]
        for body in shapes {
            let guest = try #require(try LumaGuestDelivery.parse(body, kind: "guest.registered"))
            #expect(guest.lumaEventID == "evt-1")
            #expect(guest.guestID == "gst-1")
            #expect(guest.intent == .reserve(quantity: 2))
        }
    }

    @Test func approvalStatusesMapToIntents() throws {
        func intent(_ status: String) throws -> LumaGuestDelivery.Intent? {
            let body = #"{"type":"guest.updated","data":{"id":"g","approval_status":"\#(status)","event":{"id":"e"}}}"#
            return try LumaGuestDelivery.parse(body, kind: "guest.updated")?.intent
        }
        #expect(try intent("approved") == .reserve(quantity: 1))
        #expect(try intent("declined") == .release)
        #expect(try intent("waitlist") == .holdNothing(status: "waitlist"))
        #expect(try intent("pending_approval") == .holdNothing(status: "pending_approval"))
        #expect(try intent("invited") == .holdNothing(status: "invited"))
        #expect(throws: MalformedPayload.self) { try intent("bogus") }
        let nullStatus = #"{"type":"ticket.registered","data":{"id":"g","approval_status":null,"event":{"id":"e"},"event_tickets":[{},{},{}]}}"#
        #expect(try LumaGuestDelivery.parse(nullStatus, kind: "x")?.intent == .reserve(quantity: 3))
    }

    @Test func otherTypesCarryNoOrderAndBrokenBodiesAreMalformed() throws {
        #expect(try LumaGuestDelivery.parse(#"{"type":"event.created","data":{"id":"evt-1"}}"#, kind: "event.created") == nil)
        // The type comes from the body; the delivery's kind is the fallback.
        #expect(try LumaGuestDelivery.parse(#"{"data":{"id":"g","event":{"id":"e"}}}"#, kind: "guest.updated") != nil)
        for body in [
            "", "[]", #"{"type":"guest.updated"}"#, #"{"type":"guest.updated","data":{"event":{"id":"e"}}}"#,
            #"{"type":"guest.updated","data":{"id":"g"}}"#, #"{"type":"guest.updated","data":{"id":7,"event":{"id":"e"}}}"#,
            #"{"type":"guest.updated","data":{"id":"g","event":{"id":"e"},"event_tickets":"many"}}"#,
        ] {
            #expect(throws: MalformedPayload.self, "\(body)") { try LumaGuestDelivery.parse(body, kind: "guest.updated") }
        }
    }
}
