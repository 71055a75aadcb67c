import Synchronization
import Testing
import TrafficPolice
import TrafficPoliceCore

/// G1 and G3 under concurrency: many tasks over many connections, three platforms, random
/// quantities, duplicated order ids and interleaved releases against one event, through the
/// whole reservation path (Redis script, then ledger), on real Redis and PostgreSQL.
@Suite struct ReservationConcurrencyTests {
    struct Observation: Sendable {
        var key: String
        var result: ReservationResult
    }

    @Test(arguments: [UInt64](1...10))
    func neverOversellsAndDuplicatesReturnTheFirstOutcome(seed: UInt64) async throws {
        try await TestStack.with(redisPool: 8, postgresPool: 8) { stack in
            let event = try TestServers.eventID("conc")
            let capacity = 150 + Int(seed % 5) * 37
            let policy = try CapacityPolicy(capacity: capacity, safetyStock: try Ratio(parsing: "0.1"),
                                            softCap: try Ratio(parsing: "0.9"))
            try await stack.desk.create(id: event, name: "concurrency \(seed)", policy: policy, split: .equal)

            let tasks = 64
            let stepsPerTask = 24
            let lowestStock = Locked(Int.max)
            let observations = Locked([Observation]())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        var rng = SeededGenerator(seed: seed &* 1_000_003 &+ UInt64(task))
                        for _ in 0..<stepsPerTask {
                            let platform = Platform.allCases.randomElement(using: &rng) ?? .luma
                            // A small id space makes duplicates across tasks common.
                            let order = "o\(Int.random(in: 0..<120, using: &rng))"
                            if Int.random(in: 0..<10, using: &rng) == 0 {
                                _ = try await stack.desk.release(
                                    event: event, platform: platform, orderID: order, source: .test)
                                continue
                            }
                            let quantity = Int.random(in: 1...4, using: &rng)
                            let result = try await stack.desk.apply(
                                event: event, platform: platform, orderID: order, quantity: quantity, source: .test)
                            lowestStock.withLock { $0 = min($0, result.stockAfter) }
                            observations.withLock {
                                $0.append(Observation(key: "\(platform.rawValue):\(order)", result: result))
                            }
                        }
                    }
                }
                // A watcher samples the stock while the burst runs.
                group.addTask {
                    for _ in 0..<200 {
                        if let counters = try await stack.reservations.counters(event: event) {
                            lowestStock.withLock { $0 = min($0, counters.stock) }
                            #expect(counters.totalSold <= capacity)
                        }
                        try await Task.sleep(for: .milliseconds(2))
                    }
                }
                try await group.waitForAll()
            }

            #expect(lowestStock.value >= 0)

            // Every repeat of an order returned the outcome its first reservation got.
            var first: [String: ReservationOutcome] = [:]
            for observation in observations.value where !observation.result.duplicate {
                #expect(first[observation.key] == nil, "two first outcomes for \(observation.key)")
                first[observation.key] = observation.result.outcome
            }
            for observation in observations.value where observation.result.duplicate {
                if let firstOutcome = first[observation.key] {
                    #expect(observation.result.outcome == firstOutcome, "repeat of \(observation.key)")
                } else {
                    // Its first appearance was a release of an unseen order (a tombstone).
                    #expect(observation.result.outcome == .overbooked)
                }
            }

            // G1 in Redis and in the ledger, and the two agree.
            let counters = try #require(try await stack.reservations.counters(event: event))
            #expect(counters.totalSold <= capacity)
            #expect(counters.stock >= 0)
            let ledgerEvent = try #require(try await stack.ledger.event(event))
            #expect(ledgerEvent.sold == counters.totalSold)
            let held = try await stack.ledger.orders(event).reduce(0) { $0 + $1.heldQuantity }
            #expect(held == counters.totalSold)
            let rebuilt = try await stack.ledger.eventStock(event)
            #expect(rebuilt.counters.stock == counters.stock)
            #expect(rebuilt.counters.sold == counters.sold)
        }
    }
}
