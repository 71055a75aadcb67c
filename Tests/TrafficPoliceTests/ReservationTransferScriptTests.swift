import RedisBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The grant and transfer scripts against `EventStock.grantFence` and `EventStock.transfer`, on a
/// real Redis: random histories mixing every script, step by step; then two rebalancers racing.
@Suite struct ReservationTransferScriptTests {
    enum Step {
        case reserve(Platform, String, Int)
        case amend(Platform, String, Int)
        case release(Platform, String)
        case sell(String, Int)
        case mode(EventMode)
        case grant
        /// A transfer with the current fence minus `age` (0 current, > 0 stale).
        case transfer(Platform, Platform, tickets: Int, age: Int, keep: Int)
    }

    static func history(seed: UInt64, length: Int) -> [Step] {
        var rng = SeededGenerator(seed: seed)
        return (0..<length).map { _ in
            let platform = Platform.allCases.randomElement(using: &rng) ?? .luma
            let other = Platform.allCases.filter { $0 != platform }.randomElement(using: &rng) ?? .meetup
            let order = "o\(Int.random(in: 0..<30, using: &rng))"
            let quantity = Int.random(in: 1...6, using: &rng)
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<40: return .reserve(platform, order, quantity)
            case 40..<48: return .release(platform, order)
            case 48..<55: return .amend(platform, order, Int.random(in: 0...6, using: &rng))
            case 55..<62: return .sell("s\(Int.random(in: 0..<30, using: &rng))", quantity)
            case 62..<65: return .mode(Bool.random(using: &rng) ? .failsafe : .open)
            case 65..<73: return .grant
            default:
                let age = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 1...2, using: &rng) : 0
                return .transfer(
                    platform, other, tickets: Int.random(in: 1...30, using: &rng), age: age,
                    keep: Int.random(in: 0...25, using: &rng))
            }
        }
    }

    @Test(arguments: 201...216)
    func transfersDecideExactlyAsTheModel(seed: UInt64) async throws {
        try await TestServers.withRedis { redis in
            let reservations = RedisReservations(redis: redis)
            let event = try TestServers.eventID("xfer")
            // Every fourth seed is small enough to reach red alert (transfers refused as not open).
            let capacity = seed % 4 == 0 ? Int(seed % 60) + 20 : Int(seed * 13 % 150) + 450
            let policy = try CapacityPolicy(
                capacity: capacity, safetyStock: try Ratio(parsing: seed % 3 == 0 ? "0" : "0.1"),
                softCap: try Ratio(parsing: seed % 2 == 0 ? "0.9" : "0.6"))
            var model = EventStock(policy: policy, split: try AllocationSplit(parsing: "eventbrite=3,luma=2,meetup=1"))
            try await reservations.load(model, event: event)
            #expect(try await reservations.fence(event: event) == 0)
            var transfers = 0
            for (index, step) in Self.history(seed: seed, length: 300).enumerated() {
                let label = "step \(index) of seed \(seed): \(step)"
                switch step {
                case .reserve(let platform, let order, let quantity):
                    let expected = try model.reserve(platform: platform, orderID: order, quantity: quantity)
                    let actual = try await reservations.reserve(event: event, platform: platform, orderID: order, quantity: quantity)
                    #expect(actual == expected, "\(label)")
                case .amend(let platform, let order, let quantity):
                    let expected = try model.amend(platform: platform, orderID: order, quantity: quantity)
                    let actual = try await reservations.amend(event: event, platform: platform, orderID: order, quantity: quantity)
                    #expect(actual == expected, "\(label)")
                case .release(let platform, let order):
                    let expected = model.release(channel: .platform(platform), orderID: order)
                    let actual = try await reservations.release(event: event, channel: .platform(platform), orderID: order)
                    #expect(actual == expected, "\(label)")
                case .sell(let sale, let quantity):
                    let expected = try model.sellBoxOffice(saleID: sale, quantity: quantity)
                    let actual = try await reservations.sellBoxOffice(event: event, saleID: sale, quantity: quantity)
                    #expect(actual == expected, "\(label)")
                case .mode(let mode):
                    guard model.mode == .open || model.mode == .failsafe else { continue }
                    model.setMode(mode)
                    try await reservations.setMode(mode, event: event)
                case .grant:
                    let expected = model.grantFence()
                    let actual = try await reservations.grantFence(event: event)
                    #expect(actual == expected, "\(label)")
                case .transfer(let from, let to, let tickets, let age, let keep):
                    let fence = max(model.fence - age, 1)
                    let expected = try model.transfer(from: from, to: to, tickets: tickets, fence: fence, keepingAtLeast: keep)
                    let actual = try await reservations.transfer(
                        event: event, from: from, to: to, tickets: tickets, fence: fence, keepingAtLeast: keep)
                    #expect(actual == expected, "\(label)")
                    if actual.moved > 0 { transfers += 1 }
                }
                let counters = try #require(try await reservations.counters(event: event))
                #expect(counters == model.counters, "counters after \(label)")
                #expect(try await reservations.fence(event: event) == model.fence, "fence after \(label)")
            }
            #expect(seed % 4 == 0 || transfers > 0, "seed \(seed) moved nothing: the history does not exercise transfers")
            // A rebuild (load) never takes the fence back, even from a ledger that knows less.
            let granted = model.fence
            let older = EventStock(
                policy: policy, allocations: model.allocation, mode: model.mode, orders: Array(model.orders.values))
            try await reservations.load(older, event: event)
            #expect(try await reservations.fence(event: event) == granted)
            #expect(try await reservations.grantFence(event: event) == granted + 1)
            _ = try await redis.send(["DEL"] + EventKeys(event).all)
        }
    }

    @Test func aLoadCarriesTheLedgersFence() async throws {
        try await TestServers.withRedis { redis in
            let reservations = RedisReservations(redis: redis)
            let event = try TestServers.eventID("xferload")
            let policy = try CapacityPolicy(capacity: 60)
            let stock = EventStock(policy: policy, allocations: [.eventbrite: 18, .luma: 18, .meetup: 18], mode: .open, orders: [], fence: 41)
            try await reservations.load(stock, event: event)
            #expect(try await reservations.fence(event: event) == 41)
            #expect(try await reservations.transfer(event: event, from: .luma, to: .meetup, tickets: 3, fence: 41, keepingAtLeast: 0).moved == 3)
            #expect(try await reservations.grantFence(event: event) == 42)
            _ = try await redis.send(["DEL"] + EventKeys(event).all)
        }
    }

    @Test func malformedTransfersAndUnloadedEventsAreRefused() async throws {
        try await TestServers.withRedis { redis in
            let reservations = RedisReservations(redis: redis)
            let event = try TestServers.eventID("xferbad")
            await #expect(throws: ReservationError.self) { try await reservations.grantFence(event: event) }
            await #expect(throws: ReservationError.self) {
                try await reservations.transfer(event: event, from: .luma, to: .meetup, tickets: 1, fence: 1, keepingAtLeast: 0)
            }
            try await reservations.load(EventStock(policy: try CapacityPolicy(capacity: 30)), event: event)
            await #expect(throws: DomainError.self) {
                try await reservations.transfer(event: event, from: .luma, to: .luma, tickets: 1, fence: 1, keepingAtLeast: 0)
            }
            // The script checks its arguments itself too.
            for arguments in [["luma", "luma", "1", "1", "0"], ["luma", "meetup", "0", "1", "0"], ["luma", "meetup", "1", "x", "0"]] {
                await #expect(throws: RedisError.self) {
                    try await redis.evalSHA(ReservationScripts.transfer, keys: EventKeys(event).all, arguments: arguments)
                }
            }
            _ = try await redis.send(["DEL"] + EventKeys(event).all)
        }
    }

    struct TransferObservation: Sendable {
        var rebalancer: Int
        var fence: Int
        /// The highest fence whose grant had returned to someone before this transfer was sent.
        var latestKnownBefore: Int
        var result: TransferResult
    }

    /// Two rebalancers grant and transfer at once while reservations run: a transfer sent after a
    /// later grant returned is always stale; a transfer that moved carried the current fence; sold
    /// never exceeds C; and while open, Σ allocation is what the loads and absorptions made it.
    @Test(arguments: [UInt64](1...6))
    func twoRebalancersRacingNeverMoveWithAStaleFence(seed: UInt64) async throws {
        try await TestServers.withRedis(poolSize: 8) { redis in
            let reservations = RedisReservations(redis: redis)
            let event = try TestServers.eventID("xferconc")
            let capacity = 500 + Int(seed) * 20
            let policy = try CapacityPolicy(
                capacity: capacity, safetyStock: try Ratio(parsing: "0.1"), softCap: try Ratio(parsing: "0.9"))
            let initial = EventStock(policy: policy)
            try await reservations.load(initial, event: event)
            let initialTotal = initial.allocation.values.reduce(0, +)

            let latestGranted = Locked(0)
            let observations = Locked([TransferObservation]())
            let absorbed = Locked(0)
            let maximumSold = Locked(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for rebalancer in 0..<2 {
                    group.addTask {
                        var rng = SeededGenerator(seed: seed &* 7_919 &+ UInt64(rebalancer))
                        for _ in 0..<25 {
                            let fence = try await reservations.grantFence(event: event)
                            latestGranted.withLock { $0 = max($0, fence) }
                            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                                let from = Platform.allCases.randomElement(using: &rng) ?? .luma
                                let to = Platform.allCases.filter { $0 != from }.randomElement(using: &rng) ?? .meetup
                                let known = latestGranted.withLock { $0 }
                                let result = try await reservations.transfer(
                                    event: event, from: from, to: to, tickets: Int.random(in: 1...15, using: &rng),
                                    fence: fence, keepingAtLeast: Int.random(in: 0...40, using: &rng))
                                observations.withLock {
                                    $0.append(TransferObservation(
                                        rebalancer: rebalancer, fence: fence, latestKnownBefore: known, result: result))
                                }
                                await Task.yield()
                            }
                        }
                    }
                }
                for task in 0..<6 {
                    group.addTask {
                        var rng = SeededGenerator(seed: seed &* 1_000_003 &+ UInt64(100 + task))
                        for n in 0..<40 {
                            let platform = Platform.allCases.randomElement(using: &rng) ?? .luma
                            if n % 9 == 8 {
                                _ = try await reservations.release(
                                    event: event, channel: .platform(platform), orderID: "t\(task)-\(n - 3)")
                                continue
                            }
                            let result = try await reservations.reserve(
                                event: event, platform: platform, orderID: "t\(task)-\(n)",
                                quantity: Int.random(in: 1...2, using: &rng))
                            if result.outcome == .absorbed { absorbed.withLock { $0 += result.excess } }
                        }
                    }
                }
                group.addTask {
                    for _ in 0..<150 {
                        if let counters = try await reservations.counters(event: event) {
                            #expect(counters.totalSold <= capacity && counters.stock >= 0)
                            maximumSold.withLock { $0 = max($0, counters.totalSold) }
                        }
                        try await Task.sleep(for: .milliseconds(1))
                    }
                }
                try await group.waitForAll()
            }

            let all = observations.value
            #expect(all.count >= 50)
            for observation in all {
                if observation.latestKnownBefore > observation.fence {
                    #expect(observation.result.outcome == .staleFence, "a superseded fence moved: \(observation)")
                }
                if observation.result.outcome == .transferred {
                    #expect(observation.result.fence == observation.fence)
                } else {
                    #expect(observation.result.moved == 0)
                }
            }
            // Both rebalancers were superseded at some point, and both moved quota at some point.
            #expect(all.contains { $0.result.outcome == .staleFence })
            #expect(all.contains { $0.result.moved > 0 })
            #expect(try await reservations.fence(event: event) == 50)

            let counters = try #require(try await reservations.counters(event: event))
            #expect(counters.totalSold <= capacity && counters.stock >= 0 && counters.freeStock >= 0)
            if counters.mode == .open {
                #expect(counters.allocation.values.reduce(0, +) == initialTotal + absorbed.value)
                for platform in Platform.allCases {
                    #expect(counters.allocation[platform]! >= counters.sold[.platform(platform)]!)
                }
            }
            _ = try await redis.send(["DEL"] + EventKeys(event).all)
        }
    }
}
