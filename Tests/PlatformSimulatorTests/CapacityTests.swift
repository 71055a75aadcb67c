import Testing

@testable import PlatformSimulator

@Suite struct CapacityTests {
    let buyer = Buyer.numbered(1)

    @Test func eventbriteRefusesBeyondTierThenTicketClass() throws {
        var store = EventbriteStore()
        store.createEvent(id: "e", capacity: 3, ticketClassID: "tc", now: 0)
        _ = try store.placeOrder(eventID: "e", quantity: 2, buyer: buyer, now: 1, lag: 0).get()
        let refused = store.placeOrder(eventID: "e", quantity: 2, buyer: buyer, now: 2, lag: 0)
        #expect(refused.failure == .soldOut)
        // The smaller of the ticket class capacity and the tier counts (platforms.md 1.4).
        _ = try store.setTicketClassCapacity(eventID: "e", capacity: 5, now: 3, lag: 0).get()
        #expect(store.enforcedCapacity("e") == 3)
        #expect(store.placeOrder(eventID: "e", quantity: 2, buyer: buyer, now: 3, lag: 0).failure == .soldOut)
        _ = try store.setTierCapacity(eventID: "e", capacity: 8, now: 3, lag: 0).get()
        #expect(store.enforcedCapacity("e") == 5)
        _ = try store.placeOrder(eventID: "e", quantity: 3, buyer: buyer, now: 4, lag: 0).get()
        #expect(store.sold("e") == 5)
        #expect(store.placeOrder(eventID: "e", quantity: 1, buyer: buyer, now: 4, lag: 0).failure == .soldOut)
        let classTooSmall = store.setTicketClassCapacity(eventID: "e", capacity: 4, now: 5, lag: 0)
        #expect(classTooSmall.failure?.code == "BAD_QUANTITIES")
        let tierTooSmall = store.setTierCapacity(eventID: "e", capacity: 1, now: 5, lag: 0)
        #expect(tierTooSmall.failure?.code == "CAPACITY_TOTAL_TOO_SMALL")
    }

    @Test func eventbriteReadLagHidesOrdersAndRefundsRelease() throws {
        var store = EventbriteStore()
        store.createEvent(id: "e", capacity: 2, ticketClassID: nil, now: 0)
        let order = try store.placeOrder(eventID: "e", quantity: 2, buyer: buyer, now: 10, lag: 5).get()
        #expect(store.visibleOrder(order.id, now: 12) == nil)
        #expect(store.visibleOrder(order.id, now: 15) != nil)
        let cancelled = store.cancelOrder(order.id, refund: true, now: 20)
        #expect(cancelled)
        #expect(store.sold("e") == 0)
        #expect(store.attendees(of: "e", status: .notAttending, changedSince: 20, now: 20).count == 2)
    }

    @Test func lumaWaitlistsBeyondMaxCapacityAndDeclineReleases() throws {
        var store = LumaStore()
        store.createEvent(id: "evt-1", capacity: 3, waitlist: true, now: 0)
        let first = try store.register(eventID: "evt-1", quantity: 2, buyer: buyer, now: 1).get()
        let second = try store.register(eventID: "evt-1", quantity: 2, buyer: buyer, now: 2).get()
        #expect(first.approvalStatus == "approved" && first.ticketIDs.count == 2)
        #expect(second.approvalStatus == "waitlist" && second.ticketIDs.isEmpty)
        _ = try store.updateStatus(guestID: first.id, status: "declined", now: 3).get()
        #expect(store.approvedTickets("evt-1") == 0)
        store.createEvent(id: "evt-2", capacity: 1, waitlist: false, now: 0)
        _ = try store.register(eventID: "evt-2", quantity: 1, buyer: buyer, now: 1).get()
        let full = store.register(eventID: "evt-2", quantity: 1, buyer: buyer, now: 1)
        #expect(full.failure == .soldOut)
    }

    @Test func meetupCountsGuestsWaitlistsAndClosesAndPromotes() throws {
        var store = MeetupStore()
        store.createEvent(id: "m", capacity: 3, now: 0)
        let yes = try store.rsvp(eventID: "m", quantity: 2, buyer: buyer, now: 1).get()
        #expect(yes.status == "YES" && yes.guestsCount == 1)
        let waiting = try store.rsvp(eventID: "m", quantity: 2, buyer: buyer, now: 2).get()
        #expect(waiting.status == "WAITLIST")
        _ = store.setClosed(eventID: "m", true)
        let closed = store.rsvp(eventID: "m", quantity: 1, buyer: buyer, now: 3)
        #expect(closed.failure == .closed)
        _ = store.setClosed(eventID: "m", false)
        let promoted = store.cancel(yes.id, now: 4)
        #expect(promoted == [waiting.id])
        #expect(store.taken("m") == 2)
        _ = store.setLimit(eventID: "m", 0, now: 5)
        let unlimited = try store.rsvp(eventID: "m", quantity: 4, buyer: buyer, now: 6).get()
        #expect(unlimited.status == "YES")
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
