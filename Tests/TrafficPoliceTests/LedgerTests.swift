import PostgresBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The ledger on a real PostgreSQL: idempotent writes, the no-oversell check, and the rebuild of Redis from it.
@Suite struct LedgerTests {
    @Test func writesAreIdempotent() async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("ledger")
            try await stack.desk.create(id: event, name: "Ledger", policy: try CapacityPolicy(capacity: 20), split: .equal)

            let first = try await stack.desk.apply(event: event, platform: .luma, orderID: "gst-1", quantity: 3, source: .test)
            let again = try await stack.desk.apply(event: event, platform: .luma, orderID: "gst-1", quantity: 3, source: .webhook)
            #expect(first.outcome == .accepted && !first.duplicate)
            #expect(again.duplicate && again.outcome == .accepted)
            #expect(try await stack.ledger.event(event)?.sold == 3)
            #expect(try await stack.ledger.orders(event).count == 1)

            #expect(try await stack.desk.release(event: event, platform: .luma, orderID: "gst-1", source: .test) == .released)
            #expect(try await stack.desk.release(event: event, platform: .luma, orderID: "gst-1", source: .test) == .alreadyReleased)
            #expect(try await stack.ledger.event(event)?.sold == 0)

            #expect(try await stack.desk.sell(event, quantity: 2, approvedBy: "ana", saleID: "bo-1") == .sold(stockAfter: 18, enteredRedAlert: false))
            #expect(try await stack.desk.sell(event, quantity: 2, approvedBy: "ana", saleID: "bo-1") == .duplicate(quantity: 2))
            #expect(try await stack.ledger.event(event)?.sold == 2)
            let rows = try await stack.postgres.query(
                "SELECT approved_by FROM box_office_sales WHERE event_id = $1 AND id = $2", [event.rawValue, "bo-1"])
            #expect(rows.first?["approved_by"] == "ana")
        }
    }

    @Test func aCrashBetweenRedisAndTheLedgerIsRepairedByTheRetry() async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("crash")
            try await stack.desk.create(id: event, name: "Crash", policy: try CapacityPolicy(capacity: 30), split: .equal)
            // The script ran but the process died before the ledger write.
            let decided = try await stack.reservations.reserve(event: event, platform: .meetup, orderID: "rsvp-9", quantity: 2)
            #expect(try await stack.ledger.event(event)?.sold == 0)
            // The redelivery gets the first outcome from Redis and completes the ledger.
            let retried = try await stack.desk.apply(event: event, platform: .meetup, orderID: "rsvp-9", quantity: 2, source: .webhook)
            #expect(retried.duplicate && retried.outcome == decided.outcome)
            #expect(try await stack.ledger.event(event)?.sold == 2)
        }
    }

    @Test func redisIsRebuiltFromTheLedgerAlone() async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("rebuild")
            try await stack.desk.create(
                id: event, name: "Rebuild", policy: try CapacityPolicy(capacity: 60), split: try AllocationSplit(parsing: "luma=1,meetup=1"))
            var rng = SeededGenerator(seed: 7)
            for n in 0..<80 {
                let platform = Platform.allCases.randomElement(using: &rng) ?? .luma
                if n % 7 == 3 {
                    _ = try await stack.desk.release(event: event, platform: platform, orderID: "o\(n - 3)", source: .test)
                } else {
                    _ = try await stack.desk.apply(
                        event: event, platform: platform, orderID: "o\(n)", quantity: Int.random(in: 1...3, using: &rng), source: .test)
                }
            }
            _ = try await stack.desk.sell(event, quantity: 1, approvedBy: "bo", saleID: "s")
            let live = try #require(try await stack.reservations.counters(event: event))

            // Redis loses everything; the next step rebuilds from the ledger.
            _ = try await stack.redis.send(["DEL"] + EventKeys(event).all)
            #expect(try await stack.reservations.counters(event: event) == nil)
            let snapshot = try await stack.desk.snapshot(event)
            #expect(snapshot.source == "redis")
            let rebuilt = try #require(try await stack.reservations.counters(event: event))
            #expect(rebuilt.stock == live.stock)
            #expect(rebuilt.sold == live.sold)
            #expect(rebuilt.mode == live.mode)
            #expect(rebuilt.allocation == live.allocation)
            // Every order after the rebuild still gets its first outcome and quantity.
            for order in try await stack.ledger.orders(event) {
                guard case .platform(let platform) = order.channel else { continue }
                let again = try await stack.desk.apply(
                    event: event, platform: platform, orderID: order.orderID, quantity: 9, source: .test)
                #expect(again.duplicate && again.outcome == order.outcome && again.quantity == order.quantity)
            }
            #expect(try await stack.reservations.counters(event: event) == rebuilt)
        }
    }

    @Test func theLedgerItselfRefusesToCountPastTheCapacity() async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("check")
            try await stack.desk.create(id: event, name: "Check", policy: try CapacityPolicy(capacity: 5), split: .equal)
            // A forged outcome that Redis never gave: the ledger's own CHECK stops it.
            let forged = ReservationResult(
                outcome: .accepted, quantity: 6, duplicate: false, excess: 0, stockAfter: 0, enteredRedAlert: false)
            await #expect(throws: LedgerError.self) {
                try await stack.ledger.recordReservation(
                    event: event, platform: .luma, orderID: "forged", result: forged, source: .test)
            }
            #expect(try await stack.ledger.event(event)?.sold == 0)
            #expect(try await stack.ledger.orders(event).isEmpty)
        }
    }

    @Test func redAlertIsRecordedInTheLedger() async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("red")
            try await stack.desk.create(id: event, name: "Red", policy: try CapacityPolicy(capacity: 10), split: .equal)
            // Allocations 3/3/3, soft cap 9.
            for (n, platform) in Platform.allCases.enumerated() {
                let result = try await stack.desk.apply(event: event, platform: platform, orderID: "o\(n)", quantity: 3, source: .test)
                #expect(result.enteredRedAlert == (n == 2))
            }
            let record = try #require(try await stack.ledger.event(event))
            #expect(record.mode == .redAlert)
            let snapshot = try await stack.desk.snapshot(event)
            #expect(snapshot.mode == .redAlert)
            #expect(snapshot.freeStock == 1)
            let listings = try await stack.ledger.listings(event)
            #expect(listings.values.allSatisfy { $0.allocation == 3 })
            // A refund after red alert goes to the box office, in Redis and in the ledger alike.
            #expect(try await stack.desk.release(event: event, platform: .luma, orderID: "o1", source: .test) == .released)
            #expect(try await stack.desk.snapshot(event).freeStock == 4)
            #expect(try await stack.ledger.listings(event)[.luma]?.allocation == 0)
            #expect(try await stack.ledger.eventStock(event).counters == (try await stack.reservations.counters(event: event)))
        }
    }
}
