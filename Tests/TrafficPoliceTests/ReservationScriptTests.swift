import RedisBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The Lua scripts against their reference model (`EventStock`), on a real Redis.
@Suite struct ReservationScriptTests {
    /// One random step of a history.
    enum Step {
        case reserve(Platform, String, Int)
        case amend(Platform, String, Int, Int64)
        case release(SalesChannel, String)
        case sell(String, Int)
        case mode(EventMode)
    }

    /// With `amendments`, 40 of every 100 reservations are amendments instead (quantity 0–6, a
    /// version that mostly grows and sometimes goes back).
    static func history(seed: UInt64, length: Int, orders: Int, amendments: Bool = false) -> [Step] {
        var rng = SeededGenerator(seed: seed)
        return (0..<length).map { index in
            let platform = Platform.allCases.randomElement(using: &rng) ?? .luma
            let order = "o\(Int.random(in: 0..<orders, using: &rng))"
            let quantity = Int.random(in: 1...6, using: &rng)
            if amendments && Int.random(in: 0..<100, using: &rng) < 40 {
                let version = Int64(index / 4 + Int.random(in: -3...3, using: &rng))
                return .amend(platform, order, Int.random(in: 0...6, using: &rng), max(version, 0) * 1_000_000_007)
            }
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<70: return .reserve(platform, order, quantity)
            case 70..<85: return .release(.platform(platform), order)
            case 85..<97: return .sell("s\(Int.random(in: 0..<orders, using: &rng))", quantity)
            default: return .mode(Bool.random(using: &rng) ? .failsafe : .open)
            }
        }
    }

    @Test(arguments: 1...12)
    func scriptsDecideExactlyAsTheModel(seed: UInt64) async throws {
        try await runDifferential(seed: seed, amendments: false)
    }

    /// The amend script against `EventStock.amend`, amendments mixed with everything else.
    @Test(arguments: 101...116)
    func amendmentsDecideExactlyAsTheModel(seed: UInt64) async throws {
        try await runDifferential(seed: seed, amendments: true)
    }

    func runDifferential(seed: UInt64, amendments: Bool) async throws {
        try await TestServers.withRedis { redis in
        let reservations = RedisReservations(redis: redis)
        let event = try TestServers.eventID("diff")
        let capacity = Int(seed * 17 % 120) + 5
        let policy = try CapacityPolicy(
            capacity: capacity, safetyStock: try Ratio(parsing: seed % 3 == 0 ? "0" : "0.15"),
            softCap: try Ratio(parsing: seed % 2 == 0 ? "0.85" : "0.5"))
        var model = EventStock(policy: policy, split: try AllocationSplit(parsing: "eventbrite=3,luma=2,meetup=1"))
        try await reservations.load(model, event: event)

        let history = Self.history(seed: seed, length: 300, orders: amendments ? 30 : 50, amendments: amendments)
        for (index, step) in history.enumerated() {
            switch step {
            case .amend(let platform, let order, let quantity, let version):
                let expected = try model.amend(platform: platform, orderID: order, quantity: quantity, version: version)
                let actual = try await reservations.amend(
                    event: event, platform: platform, orderID: order, quantity: quantity, version: version)
                #expect(actual == expected, "step \(index) of seed \(seed): amend \(platform) \(order) to \(quantity) v\(version)")
            case .reserve(let platform, let order, let quantity):
                let expected = try model.reserve(platform: platform, orderID: order, quantity: quantity)
                let actual = try await reservations.reserve(
                    event: event, platform: platform, orderID: order, quantity: quantity)
                #expect(actual == expected, "step \(index) of seed \(seed): reserve \(platform) \(order) ×\(quantity)")
            case .release(let channel, let order):
                let expected = model.release(channel: channel, orderID: order)
                let actual = try await reservations.release(event: event, channel: channel, orderID: order)
                #expect(actual == expected, "step \(index) of seed \(seed): release \(channel) \(order)")
            case .sell(let sale, let quantity):
                let expected = try model.sellBoxOffice(saleID: sale, quantity: quantity)
                let actual = try await reservations.sellBoxOffice(event: event, saleID: sale, quantity: quantity)
                #expect(actual == expected, "step \(index) of seed \(seed): sell \(sale) ×\(quantity)")
            case .mode(let mode):
                guard model.mode == .open || model.mode == .failsafe else { continue }
                model.setMode(mode)
                try await reservations.setMode(mode, event: event)
            }
            let counters = try #require(try await reservations.counters(event: event))
            #expect(counters == model.counters, "counters after step \(index) of seed \(seed)")
            #expect(counters.stock >= 0)
        }
        // Every order as Redis holds it is the model's (what a rebuild loads back).
        for order in model.orders.values {
            let stored = try await reservations.order(event: event, channel: order.channel, orderID: order.orderID)
            #expect(stored == order, "order \(order.key) of seed \(seed)")
        }
        _ = try await redis.send(["DEL"] + EventKeys(event).all)
        }
    }

    @Test func loadReplacesTheCountersAtomically() async throws {
        try await TestServers.withRedis { redis in
        let reservations = RedisReservations(redis: redis)
        let event = try TestServers.eventID("load")
        var model = EventStock(policy: try CapacityPolicy(capacity: 50))
        for n in 0..<40 {
            _ = try model.reserve(platform: Platform.allCases[n % 3], orderID: "o\(n)", quantity: 1 + n % 2)
        }
        try await reservations.load(model, event: event)
        #expect(try await reservations.counters(event: event) == model.counters)
        // Every order came along: repeating one returns its first outcome and changes nothing.
        let repeated = try await reservations.reserve(event: event, platform: .luma, orderID: "o1", quantity: 1)
        #expect(repeated.duplicate && repeated.outcome == model.orders["luma:o1"]?.outcome)
        #expect(try await reservations.counters(event: event) == model.counters)
        _ = try await redis.send(["DEL"] + EventKeys(event).all)
        }
    }

    @Test func anEventNotLoadedIsReportedAsSuch() async throws {
        try await TestServers.withRedis { redis in
        let reservations = RedisReservations(redis: redis)
        let event = try TestServers.eventID("missing")
        await #expect(throws: ReservationError.self) {
            try await reservations.reserve(event: event, platform: .luma, orderID: "g", quantity: 1)
        }
        #expect(try await reservations.counters(event: event) == nil)
        }
    }

    @Test func keysShareTheEventsHashTag() throws {
        let keys = EventKeys(try EventID("42"))
        #expect(keys.all.allSatisfy { $0.hasPrefix("event:{42}:") })
        #expect(keys.stock == "event:{42}:stock")
    }
}

@Suite struct ReservationLoadTests {
    @Test func aRebuildNeverReplacesCountersThatExist() async throws {
        try await TestServers.withRedis { redis in
            let reservations = RedisReservations(redis: redis)
            let event = try TestServers.eventID("ifabsent")
            let fresh = EventStock(policy: try CapacityPolicy(capacity: 30))
            #expect(try await reservations.load(fresh, event: event, replacing: false))
            _ = try await reservations.reserve(event: event, platform: .luma, orderID: "g1", quantity: 2)
            // A second, racing rebuild from an older ledger state must not wipe the decision.
            #expect(try await reservations.load(fresh, event: event, replacing: false) == false)
            #expect(try await reservations.counters(event: event)?.stock == 28)
            // Recovery replaces on purpose.
            #expect(try await reservations.load(fresh, event: event, replacing: true))
            #expect(try await reservations.counters(event: event)?.stock == 30)
            _ = try await redis.send(["DEL"] + EventKeys(event).all)
        }
    }
}
