import Foundation
import Testing
import TrafficPolice
import TrafficPoliceCore

/// `EventDesk.list`: the events and their listings read in bulk, the counters concurrently, and the
/// same snapshot for each event as `snapshot(_:)` gives, in id order.
@Suite struct EventDeskListTests {
    @Test func theListHoldsEachEventsOwnSnapshotInIdOrder() async throws {
        try await TestStack.with { stack in
            let desk = stack.desk
            // Ids that sort in the reverse of their creation, with different listings and sales.
            let prefix = "list-\(UUID().uuidString.prefix(8).lowercased())"
            var ids: [EventID] = []
            for index in (0..<5).reversed() {
                let id = try EventID("\(prefix)-\(index)")
                ids.append(id)
                try await desk.create(
                    id: id, name: "List \(index)", policy: try CapacityPolicy(capacity: 50 + index), split: .equal)
                if index % 2 == 0 {
                    try await desk.link(id, platform: .luma, platformEventID: "evt-\(prefix)-\(index)", ticketClassID: nil)
                }
                if index > 0 {
                    _ = try await desk.apply(
                        event: id, platform: .eventbrite, orderID: "o-\(index)", quantity: index, source: .test)
                }
            }
            let listed = try await desk.list(concurrency: 2).filter { $0.id.hasPrefix(prefix) }
            #expect(listed.map(\.id) == ids.map(\.rawValue).sorted())
            for snapshot in listed {
                #expect(snapshot == (try await desk.snapshot(try EventID(snapshot.id))))
            }
            #expect(listed.map(\.sold) == [0, 1, 2, 3, 4])
            #expect(listed.map { $0.platforms["luma"]?.platformEventID != nil } == [true, false, true, false, true])
        }
    }
}
