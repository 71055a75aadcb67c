import ArgumentParser
import Logging
import Foundation
import PostgresBridge
import RedisBridge
import Synchronization
import TrafficPolice
import TrafficPoliceCore

/// `reservation-bench burst`: a concurrent burst of orders from the three platforms against one
/// event, through the whole reservation path (Redis script, then ledger), with duplicated
/// deliveries and some refunds, then a summary table and the G1 check.
struct BurstCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burst", abstract: "A concurrent burst of platform orders against one event, then a summary.")

    @Option(help: "The event to sell (it must exist).") var event: String
    @Option(help: "Number of distinct orders.") var orders: Int = 3000
    @Option(help: "Concurrent buyers.") var concurrency: Int = 64
    @Option(help: "Share of deliveries sent twice (webhook retries), 0–1.") var duplicates: Double = 0.2
    @Option(help: "Share of orders refunded after they were placed, 0–1.") var refunds: Double = 0.02
    @Option(help: "Demand skew over eventbrite,luma,meetup.") var skew: String = "60,30,10"
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Deliveries still arriving after red alert closed the platforms (orders in flight).")
    var lateOrders: Int = 40

    func run() async throws {
        // Thousands of orders are decided here: their journal lines (info, one per order) would
        // drown the burst's own report. Warnings and worse still show.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let eventID = try EventID(event)
        let weights = skew.split(separator: ",").compactMap { Double($0) }
        guard weights.count == 3, weights.allSatisfy({ $0 >= 0 }), weights.reduce(0, +) > 0 else {
            throw ValidationError("--skew takes three non-negative weights, e.g. 60,30,10")
        }
        let configuration = try TrafficPoliceConfiguration.load(path: nil)
        var redisConfiguration = configuration.redis
        redisConfiguration.poolSize = 8
        let redis = RedisClient(configuration: redisConfiguration)
        let postgres = PostgresClient(
            configuration: PostgresConfiguration(connectionString: configuration.postgres.connectionString, poolSize: 8))
        let desk = EventDesk(ledger: Ledger(postgres: postgres), reservations: RedisReservations(redis: redis))

        // The deliveries: every order once, some twice, in a shuffled order; a few refunds.
        var rng = SplitMix64(seed: seed)
        var deliveries: [(Platform, String, Int)] = []
        let total = weights.reduce(0, +)
        for n in 0..<orders {
            let roll = Double.random(in: 0..<total, using: &rng)
            let platform: Platform = roll < weights[0] ? .eventbrite : roll < weights[0] + weights[1] ? .luma : .meetup
            let quantity = Int.random(in: 0..<10, using: &rng) < 7 ? 1 : Int.random(in: 2...4, using: &rng)
            deliveries.append((platform, "\(platform.rawValue)-order-\(n)", quantity))
            if Double.random(in: 0..<1, using: &rng) < duplicates { deliveries.append((platform, "\(platform.rawValue)-order-\(n)", quantity)) }
        }
        deliveries.shuffle(using: &rng)
        let refunded = deliveries.filter { _ in Double.random(in: 0..<1, using: &rng) < refunds }
        let queue = Locked(deliveries[...])
        let tally = Locked(Tally())
        // Red alert closes every platform: buyers stop, but orders already in flight still land.
        let lateBudget = Locked(Optional<Int>.none)
        let lateOrders = self.lateOrders

        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while lateBudget.withLock({ budget -> Bool in
                        guard let left = budget else { return true }
                        budget = left - 1
                        return left > 0
                    }), let (platform, order, quantity) = queue.withLock({ $0.popFirst() }) {
                        let result = try await desk.apply(
                            event: eventID, platform: platform, orderID: order, quantity: quantity, source: .test)
                        tally.withLock { $0.add(platform, result, quantity) }
                        if result.enteredRedAlert { lateBudget.withLock { $0 = $0 ?? lateOrders } }
                    }
                }
            }
            try await group.waitForAll()
        }
        for (platform, order, _) in refunded {
            if try await desk.release(event: eventID, platform: platform, orderID: order, source: .test) == .released {
                tally.withLock { $0.refunds[platform, default: 0] += 1 }
            }
        }
        let elapsed = ContinuousClock.now - start
        let snapshot = try await desk.snapshot(eventID)
        let ledgerSold = try await desk.ledger.event(eventID)?.sold ?? -1
        await redis.shutdown()
        await postgres.shutdown()

        let t = tally.value
        print("")
        let unsent = queue.value.count
        print("Burst against \(eventID): \(deliveries.count - unsent) deliveries (\(t.duplicates) of them repeats), \(concurrency) buyers, \(format(elapsed))")
        if unsent > 0 {
            print("Red alert closed the platforms; \(unsent) deliveries of the planned \(deliveries.count) never came (buyers turned away).")
        }
        print("")
        print(pad("platform", 12) + pad("orders", 8) + pad("accepted", 10) + pad("absorbed", 10) + pad("overbooked", 12) + pad("refunded", 10) + pad("held", 6) + "allocation")
        for platform in Platform.allCases {
            let state = snapshot.platforms[platform.rawValue]
            print(
                pad(platform.rawValue, 12) + pad("\(t.orders[platform] ?? 0)", 8) + pad("\(t.count(platform, .accepted))", 10)
                    + pad("\(t.count(platform, .absorbed))", 10) + pad("\(t.count(platform, .overbooked))", 12)
                    + pad("\(t.refunds[platform] ?? 0)", 10) + pad("\(state?.sold ?? 0)", 6) + "\(state?.allocation ?? 0)")
        }
        print("")
        print("capacity \(snapshot.capacity), safety stock \(snapshot.safetyStock), soft cap \(snapshot.softCap)")
        print("sold \(snapshot.sold) (Redis) / \(ledgerSold) (ledger), stock left \(snapshot.stock), mode \(snapshot.mode.rawValue)")
        let g1 = snapshot.sold <= snapshot.capacity && ledgerSold <= snapshot.capacity && snapshot.stock >= 0
        let agree = ledgerSold == snapshot.sold
        print("G1 no oversell: \(g1 ? "HOLDS" : "VIOLATED") (sold ≤ capacity in Redis and in the ledger); Redis and ledger agree: \(agree ? "yes" : "NO")")
        if !g1 || !agree { throw ExitCode(1) }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return "\(ms) ms"
    }
}

/// Counts per platform and outcome (first outcomes only; repeats counted apart).
struct Tally: Sendable {
    var outcomes: [Platform: [ReservationOutcome: Int]] = [:]
    var orders: [Platform: Int] = [:]
    var refunds: [Platform: Int] = [:]
    var duplicates = 0

    mutating func add(_ platform: Platform, _ result: ReservationResult, _ quantity: Int) {
        if result.duplicate {
            duplicates += 1
            return
        }
        orders[platform, default: 0] += 1
        outcomes[platform, default: [:]][result.outcome, default: 0] += 1
    }

    func count(_ platform: Platform, _ outcome: ReservationOutcome) -> Int { outcomes[platform]?[outcome] ?? 0 }
}
