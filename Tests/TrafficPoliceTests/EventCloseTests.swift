import Foundation
import Testing
import TrafficPolice
import TrafficPoliceCore

/// `EventDesk.close`: an operator ends an event's sales (mode `closed`, DESIGN.md section 3), in
/// Redis and the ledger alike.
@Suite struct EventCloseTests {
    @Test func closingSetsEveryAllocationToWhatItsPlatformSoldAndLaterOrdersAreStillDecided() async throws {
        try await TestStack.with { stack in
            let desk = stack.desk
            let id = try TestServers.eventID("close")
            try await desk.create(id: id, name: "Close", policy: try CapacityPolicy(capacity: 100), split: .equal)
            _ = try await desk.apply(event: id, platform: .eventbrite, orderID: "eb-1", quantity: 5, source: .test)
            _ = try await desk.apply(event: id, platform: .luma, orderID: "lu-1", quantity: 2, source: .test)

            #expect(try await desk.close(id, by: "ana", reason: "venue cancelled") == .closed)
            let counters = try #require(try await stack.reservations.counters(event: id))
            #expect(counters.mode == .closed)
            #expect(counters.allocation == [.eventbrite: 5, .luma: 2, .meetup: 0])
            #expect(try await stack.ledger.event(id)?.mode == .closed)
            #expect(try await desk.close(id, by: "ana", reason: nil) == .alreadyClosed)

            // An order Eventbrite sold before it heard: decided from the free stock (absorbed).
            let late = try await desk.apply(event: id, platform: .eventbrite, orderID: "eb-2", quantity: 2, source: .test)
            #expect(late.outcome == .absorbed)
            let after = try #require(try await stack.reservations.counters(event: id))
            #expect(after.allocation[.eventbrite] == 7 && after.mode == .closed)

            // The ledger alone rebuilds the same closed event.
            try await desk.rebuild(id, replacing: true)
            #expect(try await stack.reservations.counters(event: id) == after)
        }
    }

    @Test func closingNeedsAnOperatorAndAKnownEvent() async throws {
        try await TestStack.with { stack in
            let id = try TestServers.eventID("close")
            await #expect(throws: LedgerError.self) { try await stack.desk.close(id, by: "ana", reason: nil) }
            try await stack.desk.create(id: id, name: "Close", policy: try CapacityPolicy(capacity: 10), split: .equal)
            await #expect(throws: DomainError.self) { try await stack.desk.close(id, by: "  ", reason: nil) }
            #expect(try await stack.reservations.counters(event: id)?.mode == .open)
        }
    }
}
