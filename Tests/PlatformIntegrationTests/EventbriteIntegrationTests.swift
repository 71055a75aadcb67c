import Foundation
import PlatformClients
import PlatformSimulator
import Testing

@Suite("EventbriteClient against the simulator", .timeLimit(.minutes(1)))
struct EventbriteIntegrationTests {
    @Test func orderWithAttendeesThenRefundAndCancellation() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("eventbrite", id: "e1", capacity: 10, extra: ["ticket_class_id": "tc1"])
            let client = sim.eventbrite()
            let orderID = try await sim.sold("eventbrite", "e1", quantity: 3)
            let order = try await client.order(id: orderID)
            #expect(order.id == orderID && order.eventID == "e1" && order.status == "placed")
            #expect(order.quantity == 3 && order.attendees?.allSatisfy { $0.orderID == orderID && $0.ticketClassID == "tc1" } == true)
            #expect(try await client.order(id: orderID, expandAttendees: false).attendees == nil)

            try await sim.cancel("eventbrite", orderID, refund: true)
            let refunded = try await client.order(id: orderID)
            #expect(refunded.quantity == 0 && refunded.attendees?.allSatisfy { $0.refunded && $0.cancelled } == true)

            let other = try await sim.sold("eventbrite", "e1", quantity: 2)
            try await sim.cancel("eventbrite", other, refund: false)
            let cancelled = try await client.order(id: other)
            #expect(cancelled.quantity == 0)
            #expect(cancelled.attendees?.allSatisfy { $0.cancelled && !$0.refunded && $0.status == "Not Attending" } == true)
        }
    }

    @Test func ordersAndAttendeesPageToTheEndWithChangedSinceAndContinuation() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.configure(["eventbrite": ["page_size": 2]])
            try await sim.createEvent("eventbrite", id: "e1", capacity: nil)
            let client = sim.eventbrite()
            let before = sim.now.addingTimeInterval(-2)
            var orderIDs: [String] = []
            for quantity in [1, 2, 1, 3, 1] { orderIDs.append(try await sim.sold("eventbrite", "e1", quantity: quantity)) }
            try await sim.cancel("eventbrite", orderIDs[1])

            // By hand: continuation until has_more_items is false.
            var seen: [String] = []
            var continuation: String?
            var pages = 0
            repeat {
                let page = try await client.eventOrders(eventID: "e1", changedSince: before, continuation: continuation)
                #expect(page.items.count <= 2 && page.pagination.objectCount == 5)
                seen += page.items.map(\.id)
                continuation = page.nextContinuation
                pages += 1
            } while continuation != nil
            #expect(seen == orderIDs && pages == 3)

            #expect(try await client.allEventOrders(eventID: "e1", changedSince: before).map(\.id) == orderIDs)
            #expect(try await client.allEventOrders(eventID: "e1", status: .active).count == 4)
            #expect(try await client.allEventOrders(eventID: "e1", status: .inactive).map(\.id) == [orderIDs[1]])
            let future = sim.now.addingTimeInterval(60)
            #expect(try await client.allEventOrders(eventID: "e1", changedSince: future).isEmpty)

            let attendees = try await client.allAttendees(eventID: "e1", changedSince: before)
            #expect(attendees.count == 8 && Set(attendees.map(\.id)).count == 8)
            let attending = try await client.allAttendees(eventID: "e1", status: .attending)
            let notAttending = try await client.allAttendees(eventID: "e1", status: .notAttending)
            #expect(attending.count == 6 && notAttending.count == 2 && notAttending.allSatisfy { !$0.holdsTicket })
            #expect(try await client.allAttendees(eventID: "e1", status: .unpaid).isEmpty)
            let firstPage = try await client.attendees(eventID: "e1")
            #expect(firstPage.items.count == 2 && firstPage.pagination.hasMoreItems)
        }
    }

    @Test func everyStatusTheClientCanSendIsAccepted() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("eventbrite", id: "e1", capacity: nil)
            _ = try await sim.sold("eventbrite", "e1", quantity: 2)
            let client = sim.eventbrite()
            for status in EventbriteCalls.OrderStatus.allCases {
                _ = try await client.eventOrders(eventID: "e1", status: status)
            }
            for status in EventbriteCalls.AttendeeStatus.allCases {
                _ = try await client.attendees(eventID: "e1", status: status)
            }
        }
    }

    @Test func ticketClassAndCapacityTierReadWriteAndRefusals() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("eventbrite", id: "e1", capacity: 10, extra: ["ticket_class_id": "tc1"])
            let client = sim.eventbrite()
            _ = try await sim.sold("eventbrite", "e1", quantity: 3)

            let ticketClass = try await client.ticketClass(eventID: "e1", ticketClassID: "tc1")
            #expect(ticketClass.id == "tc1" && ticketClass.capacity == nil && ticketClass.quantitySold == 3)
            #expect(ticketClass.quantityTotal == 10 && ticketClass.onSaleStatus == "AVAILABLE")
            let written = try await client.updateTicketClassCapacity(eventID: "e1", ticketClassID: "tc1", capacity: 4)
            #expect(written.capacity == 4 && written.quantityTotal == 4)
            #expect(try await client.ticketClass(eventID: "e1", ticketClassID: "tc1").capacity == 4)
            #expect(try await sim.sell("eventbrite", "e1", quantity: 2).json["reason"] == "sold_out")

            let tier = try await client.capacityTier(eventID: "e1")
            #expect(tier.capacityTotal == 10 && tier.capacitySold == 3 && tier.capacityIsCustom == true)
            let newTier = try await client.updateCapacityTier(eventID: "e1", capacityTotal: 8)
            #expect(newTier.capacityTotal == 8 && newTier.eventID == "e1")
            // The ticket class cannot sell past the tier: availability is the smaller of the two (platforms.md 1.4).
            let above = try await client.updateTicketClassCapacity(eventID: "e1", ticketClassID: "tc1", capacity: 20)
            #expect(above.capacity == 20 && above.quantityTotal == 8)
            #expect(try await sim.sell("eventbrite", "e1", quantity: 6).json["reason"] == "sold_out")
            _ = try await sim.sold("eventbrite", "e1", quantity: 5)

            let tooSmall = await callError { try await client.updateCapacityTier(eventID: "e1", capacityTotal: 2) }
            #expect(tooSmall == .permanent(status: 400, code: "CAPACITY_TOTAL_TOO_SMALL", message: "Capacity total is too small for oversold quantities"))
            let badQuantities = await callError {
                try await client.updateTicketClassCapacity(eventID: "e1", ticketClassID: "tc1", capacity: 1)
            }
            guard case .permanent(400, "BAD_QUANTITIES", _)? = badQuantities else {
                Issue.record("expected permanent BAD_QUANTITIES, got \(String(describing: badQuantities))")
                return
            }
            #expect(badQuantities?.retryAdvice(now: Date()) == .doNotRetry)
            let changes = try await sim.control("GET", "/control/capacity-changes").json["capacity_changes"]?.arrayValue
            #expect(changes?.compactMap { $0["new"]?.intValue } == [4, 8, 20])
        }
    }

    @Test func readAfterWriteLagIsNotFoundThenVisible() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.configure(["eventbrite": ["read_lag_ms": 5000]])
            try await sim.createEvent("eventbrite", id: "e1", capacity: nil)
            let client = sim.eventbrite()
            let orderID = try await sim.sold("eventbrite", "e1", quantity: 2)
            let hidden = await callError { try await client.order(id: orderID) }
            guard case .permanent(404, "NOT_FOUND", _)? = hidden else {
                Issue.record("expected permanent NOT_FOUND, got \(String(describing: hidden))")
                return
            }
            #expect(try await client.allEventOrders(eventID: "e1").isEmpty)
            sim.advance(seconds: 5)
            #expect(try await client.order(id: orderID).quantity == 2)
            #expect(try await client.allEventOrders(eventID: "e1").map(\.id) == [orderID])
        }
    }

    @Test func authFailuresAreUnauthorizedAndTheHourlyLimitIsRateLimited() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("eventbrite", id: "e1", capacity: 5, extra: ["ticket_class_id": "tc1"])
            let refused = await callError { try await sim.eventbrite(credential: "wrong").capacityTier(eventID: "e1") }
            guard case .unauthorized(401, let message)? = refused else {
                Issue.record("expected unauthorized, got \(String(describing: refused))")
                return
            }
            #expect(message.hasPrefix("INVALID_AUTH"))
            #expect(refused?.retryAdvice(now: Date()) == .doNotRetry)

            try await sim.configure(["eventbrite": ["calls_per_window": 1]])
            let client = sim.eventbrite()
            _ = try await client.capacityTier(eventID: "e1")
            let limited = await callError { try await client.capacityTier(eventID: "e1") }
            guard case .rateLimited(nil, nil, let detail)? = limited else {
                Issue.record("expected rate limited without hints, got \(String(describing: limited))")
                return
            }
            #expect(detail.hasPrefix("HIT_RATE_LIMIT"))
            #expect(limited?.retryAdvice(now: Date()) == .withBackoff)

            try await sim.configure(["eventbrite": ["retry_after_seconds": 30]])
            let hinted = await callError { try await client.capacityTier(eventID: "e1") }
            #expect(hinted?.retryAdvice(now: Date()) == .after(.seconds(30)))
        }
    }

    /// The order resolver's incremental read: `changed_since` fixed at the start of the drop and
    /// `last_item_seen` the highest order id seen so far, with attendees expanded, sorted by id.
    @Test func aDropReadIncrementallySeesEachOrderExactlyOnce() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.configure(["eventbrite": ["page_size": 3, "read_lag_ms": 0]])
            try await sim.createEvent("eventbrite", id: "drop", capacity: nil)
            let client = sim.eventbrite()
            let start = sim.now.addingTimeInterval(-1)
            var placed: [String: Int] = [:]
            var placedOrder: [String] = []
            var seen: [String] = []
            var lastItemSeen: String?
            for batch in [4, 0, 7, 1, 5] {
                for index in 0..<batch {
                    let quantity = 1 + index % 3
                    let id = try await sim.sold("eventbrite", "drop", quantity: quantity)
                    placed[id] = quantity
                    placedOrder.append(id)
                }
                let orders = try await client.allEventOrders(
                    eventID: "drop", changedSince: start, lastItemSeen: lastItemSeen, expandAttendees: true)
                let ids = orders.map(\.id)
                #expect(ids.count == batch)
                #expect(ids == ids.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) })
                for order in orders { #expect(order.quantity == placed[order.id]) }
                seen += ids
                lastItemSeen = ids.last ?? lastItemSeen
            }
            #expect(seen == placedOrder && Set(seen).count == placed.count)
            let numbers = placedOrder.compactMap { Int($0) }
            #expect(numbers.count == placedOrder.count && numbers == numbers.sorted())
            // Without changed_since, last_item_seen does nothing (platforms.md 1.3).
            let unfiltered = try await client.allEventOrders(eventID: "drop", lastItemSeen: lastItemSeen)
            #expect(unfiltered.count == placed.count && unfiltered.allSatisfy { $0.attendees == nil })
        }
    }
}
