import Synchronization
import Testing
import TrafficPolice
import TrafficPoliceCore

/// Amendments through the desk: Redis and the ledger in step, the history kept, the rebuild exact,
/// and G1 under concurrency — on real Redis and PostgreSQL.
@Suite struct AmendmentLedgerTests {
    /// The ledger's counters (what a rebuild loads) equal Redis's, and `events.sold` equals both.
    static func expectInStep(_ stack: TestStack, _ event: EventID, _ note: Comment? = nil) async throws {
        let counters = try #require(try await stack.reservations.counters(event: event))
        let rebuilt = try await stack.ledger.eventStock(event)
        #expect(rebuilt.counters == counters, note)
        #expect(try await stack.ledger.event(event)?.sold == counters.totalSold, note)
    }

    @Test func increasesDecreasesReleasesAndComebacksAreRecorded() async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("amend")
            try await stack.desk.create(id: event, name: "Amend", policy: try CapacityPolicy(capacity: 40), split: .equal)
            _ = try await stack.desk.apply(event: event, platform: .meetup, orderID: "r1", quantity: 2, source: .test)

            let up = try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 5, source: .poll)
            #expect(up.change == .increased && up.quantity == 5)
            try await Self.expectInStep(stack, event)
            #expect(try await stack.ledger.order(event, platform: .meetup, orderID: "r1")?.quantity == 5)

            let again = try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 5, source: .poll)
            #expect(again.change == .duplicate)

            #expect(try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 1, source: .poll).change == .decreased)
            try await Self.expectInStep(stack, event)
            #expect(try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 0, source: .poll).change == .decreased)
            #expect(try await stack.ledger.order(event, platform: .meetup, orderID: "r1")?.released == true)
            try await Self.expectInStep(stack, event)
            let back = try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 3, source: .poll)
            #expect(back.change == .increased)
            try await Self.expectInStep(stack, event)
            // Refused: the order keeps 3, the ledger too.
            let refused = try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 30, source: .poll)
            #expect(refused.change == .refused && refused.quantity == 3 && refused.overbooked)
            try await Self.expectInStep(stack, event)
            // A release after amendments, then the order comes back again.
            #expect(try await stack.desk.release(event: event, platform: .meetup, orderID: "r1", source: .test) == .released)
            try await Self.expectInStep(stack, event)
            #expect(try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 2, source: .poll).change == .increased)
            try await Self.expectInStep(stack, event)

            let history = try await stack.ledger.orderChanges(event, platform: .meetup, orderID: "r1")
            #expect(history.map(\.change) == ["increased", "decreased", "decreased", "increased", "refused", "released", "increased"])
            #expect(history.first.map { [$0.from, $0.to] } == [2, 5])

            // A rebuild from the ledger keeps the order's amendment state: the refused target, the revision.
            _ = try await stack.redis.send(["DEL"] + EventKeys(event).all)
            try await stack.desk.rebuild(event)
            #expect(try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 2, source: .poll).change == .duplicate)
            try await Self.expectInStep(stack, event)
        }
    }

    @Test func aStaleAmendmentDoesNotLowerTheLedger() async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("stale")
            try await stack.desk.create(id: event, name: "Stale", policy: try CapacityPolicy(capacity: 40), split: .equal)
            _ = try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 4, version: 20, source: .poll)
            // A duplicate with a newer version: Redis moves the version up, and so does the ledger.
            _ = try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 4, version: 30, source: .poll)
            let stale = try await stack.desk.amend(event: event, platform: .meetup, orderID: "r1", quantity: 1, version: 25, source: .poll)
            #expect(stale.change == .stale && stale.quantity == 4)
            #expect(try await stack.ledger.order(event, platform: .meetup, orderID: "r1")?.quantity == 4)
            try await Self.expectInStep(stack, event)
        }
    }

    /// Random sequential histories of reservations, amendments and releases: after every step the
    /// ledger rebuilds exactly Redis's counters.
    @Test(arguments: [UInt64](1...4))
    func theLedgerRebuildsRedisAfterRandomAmendments(seed: UInt64) async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("amendrand")
            let policy = try CapacityPolicy(capacity: 30 + Int(seed) * 7)
            try await stack.desk.create(id: event, name: "Random", policy: policy, split: .equal)
            var rng = SeededGenerator(seed: seed)
            for index in 0..<120 {
                let platform = Platform.allCases.randomElement(using: &rng) ?? .luma
                let order = "o\(Int.random(in: 0..<12, using: &rng))"
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<3:
                    _ = try await stack.desk.apply(
                        event: event, platform: platform, orderID: order, quantity: Int.random(in: 1...5, using: &rng),
                        source: .test)
                case 3..<9:
                    _ = try await stack.desk.amend(
                        event: event, platform: platform, orderID: order, quantity: Int.random(in: 0...6, using: &rng),
                        version: Int64(index / 2), source: .test)
                default:
                    _ = try await stack.desk.release(event: event, platform: platform, orderID: order, source: .test)
                }
                try await Self.expectInStep(stack, event, "step \(index) of seed \(seed)")
            }
        }
    }

    /// G1 under concurrency with amendments: many tasks reserving, amending (the same orders too)
    /// and releasing at once; sold never above C in Redis or the ledger, and both agree at the end.
    @Test(arguments: [UInt64](1...4))
    func concurrentAmendmentsNeverOversell(seed: UInt64) async throws {
        try await TestStack.with(redisPool: 8, postgresPool: 8) { stack in
            let event = try TestServers.eventID("amendconc")
            let capacity = 120 + Int(seed % 3) * 31
            try await stack.desk.create(
                id: event, name: "amend \(seed)", policy: try CapacityPolicy(capacity: capacity), split: .equal)
            let lowestStock = Locked(Int.max)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<32 {
                    group.addTask {
                        var rng = SeededGenerator(seed: seed &* 7_919 &+ UInt64(task))
                        for step in 0..<24 {
                            let platform = Platform.allCases.randomElement(using: &rng) ?? .luma
                            let order = "o\(Int.random(in: 0..<60, using: &rng))"
                            let quantity = Int.random(in: 0...5, using: &rng)
                            let kind = Int.random(in: 0..<10, using: &rng)
                            // The queue retries a job the ledger refused while two amendments of one
                            // order were between their steps; so does this test.
                            for attempt in 0..<20 {
                                do {
                                    switch kind {
                                    case 0..<3:
                                        let result = try await stack.desk.apply(
                                            event: event, platform: platform, orderID: order,
                                            quantity: max(quantity, 1), source: .test)
                                        lowestStock.withLock { $0 = min($0, result.stockAfter) }
                                    case 3..<9:
                                        let result = try await stack.desk.amend(
                                            event: event, platform: platform, orderID: order, quantity: quantity,
                                            version: Int64(step), source: .test)
                                        lowestStock.withLock { $0 = min($0, result.stockAfter) }
                                    default:
                                        _ = try await stack.desk.release(
                                            event: event, platform: platform, orderID: order, source: .test)
                                    }
                                    break
                                } catch LedgerError.wouldOversell where attempt < 19 {
                                    try await Task.sleep(for: .milliseconds(5))
                                }
                            }
                        }
                    }
                }
                group.addTask {
                    for _ in 0..<150 {
                        if let counters = try await stack.reservations.counters(event: event) {
                            lowestStock.withLock { $0 = min($0, counters.stock) }
                            #expect(counters.totalSold <= capacity)
                        }
                        if let sold = try await stack.ledger.event(event)?.sold { #expect(sold <= capacity) }
                        try await Task.sleep(for: .milliseconds(2))
                    }
                }
                try await group.waitForAll()
            }
            #expect(lowestStock.value >= 0)
            let counters = try #require(try await stack.reservations.counters(event: event))
            #expect(counters.totalSold <= capacity)
            #expect(counters.totalSold == counters.sold.values.reduce(0, +))
            try await Self.expectInStep(stack, event, "seed \(seed)")
            let held = try await stack.ledger.orders(event).reduce(0) { $0 + $1.heldQuantity }
            #expect(held == counters.totalSold)
        }
    }
}
