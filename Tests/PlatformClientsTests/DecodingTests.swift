import CurlBridge
import Foundation
import PlatformClients
import Testing

@Suite("Response decoding")
struct DecodingTests {
    @Test func eventbriteOrderWithAttendees() throws {
        let order = try EventbriteCalls.order(id: "1546689753").decode(response(200, Fixtures.eventbriteOrder))
        #expect(order.id == "1546689753")
        #expect(order.status == "placed")
        #expect(order.eventID == "717926867587")
        #expect(order.created == Date(timeIntervalSince1970: 1_526_090_400))
        #expect(order.attendees?.count == 4)
        #expect(order.quantity == 2)
        let refunded = try #require(order.attendees?[2])
        #expect(refunded.refunded && !refunded.holdsTicket && refunded.orderID == "1546689753")
        #expect(refunded.ticketClassID == "1405419289")
    }

    @Test func eventbriteOrderWithoutAttendeesHasNoQuantity() throws {
        let body = #"{"id":"1","status":"placed","created":"2018-05-12T02:00:00Z"}"#
        #expect(try EventbriteCalls.order(id: "1").decode(response(200, body)).quantity == nil)
    }

    @Test func eventbriteAttendeePage() throws {
        let body = Fixtures.attendeePage(ids: ["a1", "a2"], continuation: "AEtFRyiWxk", hasMore: true, page: 1)
        let page = try EventbriteCalls.attendees(eventID: "717926867587").decode(response(200, body))
        #expect(page.items.map(\.id) == ["a1", "a2"])
        #expect(page.pagination.objectCount == 3)
        #expect(page.pagination.pageCount == 2)
        #expect(page.pagination.pageSize == 2)
        #expect(page.pagination.pageNumber == 1)
        #expect(page.nextContinuation == "AEtFRyiWxk")
        let last = Fixtures.attendeePage(ids: ["a3"], continuation: nil, hasMore: false, page: 2)
        #expect(try EventbriteCalls.attendees(eventID: "7").decode(response(200, last)).nextContinuation == nil)
    }

    @Test func eventbriteOrderPage() throws {
        let body = #"{"pagination":{"has_more_items":false,"page_number":1},"orders":[\#(Fixtures.eventbriteOrder)]}"#
        let page = try EventbriteCalls.eventOrders(eventID: "7").decode(response(200, body))
        #expect(page.items.first?.quantity == 2)
        #expect(page.pagination.continuation == nil)
    }

    @Test func eventbriteCapacity() throws {
        let tier = try EventbriteCalls.capacityTier(eventID: "7").decode(response(200, Fixtures.capacityTier))
        #expect(tier.capacityTotal == 100 && tier.capacitySold == 40 && tier.capacityPending == 2)
        #expect(tier.capacityIsCustom == true && tier.eventID == "717926867587")
        let ticketClass = try EventbriteCalls.ticketClass(eventID: "7", ticketClassID: "1405419289")
            .decode(response(200, Fixtures.ticketClass))
        #expect(ticketClass.capacity == 120 && ticketClass.quantitySold == 33 && ticketClass.onSaleStatus == "AVAILABLE")
    }

    @Test func lumaGuestPage() throws {
        let page = try LumaCalls.guests(eventID: "evt-1").decode(response(200, Fixtures.lumaGuestPage))
        #expect(page.hasMore)
        #expect(page.nextCursor == "cur+2/==")
        #expect(page.entries.map(\.id) == ["gst-abc", "gst-def", "gst-ghi"])
        let (ann, bob, cy) = (page.entries[0], page.entries[1], page.entries[2])
        #expect(ann.quantity == 3 && ann.holdsTickets && ann.approvalStatus == .approved)
        #expect(ann.userEmail == "ann@example.com" && ann.userName == "Ann")
        #expect(ann.registeredAt == Date(timeIntervalSince1970: 1_768_473_000))
        #expect(ann.eventTickets.map(\.eventTicketTypeID) == ["ttype-ga", "ttype-ga", "ttype-ga"])
        #expect(bob.approvalStatus == .declined && bob.quantity == 1 && !bob.holdsTickets && bob.userName == nil)
        #expect(cy.approvalStatus == .waitlist && cy.quantity == 0 && cy.registeredAt == nil)
    }

    @Test func lumaGuestTolerance() throws {
        // Legacy nesting, an unknown status, no event_tickets at all.
        let body = #"{"entries":[{"api_id":"gst-old","guest":{"id":"gst-old","approval_status":"brand_new"}}],"has_more":false}"#
        let page = try LumaCalls.guests(eventID: "evt-1").decode(response(200, body))
        #expect(page.entries.first?.id == "gst-old")
        #expect(page.entries.first?.approvalStatus.rawValue == "brand_new")
        #expect(page.entries.first?.quantity == 0)
        #expect(page.nextCursor == nil)
    }

    @Test func lumaEventAndTicketTypes() throws {
        let event = try LumaCalls.event(id: "evt-123").decode(response(200, Fixtures.lumaEvent))
        #expect(event.id == "evt-123" && event.waitlistStatus == "enabled" && event.calendarID == "cal-1")
        let wrapped = try LumaCalls.event(id: "evt-123").decode(response(200, #"{"event":{"id":"evt-9"},"hosts":[]}"#))
        #expect(wrapped.id == "evt-9")
        let types = try LumaCalls.ticketTypes(eventID: "evt-1").decode(response(200, Fixtures.lumaTicketTypes))
        #expect(types.map(\.maxCapacity) == [100, nil])
        #expect(types.first?.isHidden == false)
    }

    @Test func lumaWritesAcceptAnEmptyObject() throws {
        try LumaCalls.updateEvent(id: "evt-1", maxCapacity: 1).decode(response(200, "{}"))
        try LumaCalls.updateGuestStatus(eventID: "evt-1", guestID: "g", status: .approved).decode(response(200, ""))
    }

    @Test func meetupRsvpPage() throws {
        let page = try MeetupCalls.rsvps(eventID: "305123456").decode(response(200, Fixtures.meetupRsvpPageOne))
        #expect(page.event.id == "305123456" && page.event.maxTickets == 60 && page.event.waitlistMode == "AUTO")
        #expect(page.event.rsvpSettings?.rsvpsClosed == false)
        #expect(page.totalCount == 4 && page.yesCount == 2 && page.waitlistCount == 1 && page.noCount == 1)
        #expect(page.rsvps.map(\.id) == ["1", "2", "3", "4"])
        #expect(page.rsvps.map(\.quantity) == [3, 0, 0, 1])
        #expect(page.rsvps.first?.member?.name == "Member 1")
        #expect(page.rsvps.first?.updated == "2025-09-01T18:00:00-04:00")
        #expect(page.rsvps.first?.cursor == "1c")
        #expect(!page.hasNextPage && page.endCursor == "Mw==")
        #expect(page.cost == 5)
    }

    @Test func meetupMutation() throws {
        let result = try MeetupCalls.editEvent(eventID: "305123456", rsvpLimit: 42)
            .decode(response(200, Fixtures.meetupEditEventOK))
        #expect(result == MeetupMutationResult(eventID: "305123456", maxTickets: 42, cost: 6))
        let closed = try MeetupCalls.closeEventRsvps(eventID: "1")
            .decode(response(200, #"{"data":{"closeEventRsvps":{"event":{"id":"1"},"errors":null}}}"#))
        #expect(closed.eventID == "1" && closed.maxTickets == nil)
    }

    @Test func malformedBodiesNameTheField() {
        let missingID = callError {
            try EventbriteCalls.order(id: "1").decode(response(200, #"{"status":"placed"}"#))
        }
        #expect(missingID == .malformedResponse(field: "id", why: "missing"))

        let nested = callError {
            try EventbriteCalls.order(id: "1").decode(response(200, #"{"id":"1","attendees":[{"id":"a"},{"cancelled":true}]}"#))
        }
        #expect(nested == .malformedResponse(field: "attendees[1].id", why: "missing"))

        let badDate = callError {
            try LumaCalls.guests(eventID: "e").decode(
                response(200, #"{"entries":[{"id":"g","approval_status":"approved","registered_at":"yesterday"}],"has_more":false}"#))
        }
        guard case .malformedResponse(let field, _) = badDate else {
            Issue.record("expected malformedResponse, got \(String(describing: badDate))")
            return
        }
        #expect(field == "entries[0].registered_at")

        let notJSON = callError { try LumaCalls.event(id: "e").decode(response(200, "<html>")) }
        guard case .malformedResponse(let bodyField, _) = notJSON else {
            Issue.record("expected malformedResponse, got \(String(describing: notJSON))")
            return
        }
        #expect(bodyField == "body")

        let meetupType = callError {
            try MeetupCalls.rsvps(eventID: "1").decode(
                response(200, Fixtures.meetupRsvpPage(edges: [#"{"cursor":"x","node":{"id":"1","status":"YES","guestsCount":"two"}}"#],
                                                      hasNextPage: false, endCursor: nil)))
        }
        guard case .malformedResponse(let meetupField, _) = meetupType else {
            Issue.record("expected malformedResponse, got \(String(describing: meetupType))")
            return
        }
        #expect(meetupField == "data.event.rsvps.edges[0].node.guestsCount")
    }
}
