import CurlBridge
import Foundation
import Logging
import PlatformClients
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The rebalancer against real Redis, PostgreSQL and the platform simulator: quota moves toward
/// the platform that sells, every platform closes at the soft cap, and G2 holds at every capacity
/// change the simulator received (checked with what each platform had sold at that instant).
@Suite(.timeLimit(.minutes(2))) struct RebalancerTests {
    /// C = 100 (S = 10, soft cap 90): 30 per platform.
    static let capacity = 100

    @Test func quotaMovesToTheSellingPlatformAndEveryPlatformClosesAtTheSoftCap() async throws {
        let logs = LogCapture()
        try await RebalancerFixture.withPublishedAllocations(logs: logs) { fixture in
            // Eventbrite sells fast; Luma and Meetup sell nothing.
            for _ in 0..<26 { try await fixture.sell(.eventbrite, 1) }
            #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                (try await fixture.simulatorCapacities()[.eventbrite] ?? 0) > 30
            }, "quota moved to Eventbrite")
            let moved = try await fixture.stack.desk.snapshot(fixture.event)
            #expect(moved.platforms["eventbrite"]?.allocation ?? 0 > 30)
            #expect(moved.platforms.filter { $0.key != "box_office" }.values.reduce(0) { $0 + $1.allocation } == 90, "Σ allocation = C − S")
            let changes = try await fixture.stack.ledger.capacityChanges(fixture.event)
            #expect(changes.contains { $0.kind == .transfer && $0.fence > 0 }, "the transfer is in the ledger with its fence")

            // Sell on until the soft cap: red alert closes every platform at what it sold.
            var sold = 26
            var refusedSince: ContinuousClock.Instant?
            selling: while sold < 90 {
                for platform in Platform.allCases where try await fixture.sell(platform, 1) {
                    sold += 1
                    refusedSince = nil
                    continue selling
                }
                // Every platform refused: a pass may be between a shrink and its grow. Give the
                // rebalancer some seconds before concluding that what they offer is sold.
                let since = refusedSince ?? .now
                refusedSince = since
                guard ContinuousClock.now - since < .seconds(15) else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(sold == 90, "the platforms together sold C − S")
            #expect(try await fixture.stack.desk.snapshot(fixture.event).mode == .redAlert)
            #expect(try await QueueTesting.eventually(timeout: .seconds(10)) {
                let truth = try await fixture.simulatorSold()
                let published = try await fixture.simulatorCapacities()
                return Platform.allCases.allSatisfy { published[$0] == truth[$0] || published[$0] == nil }
            }, "every platform closed at what it sold")
            for platform in Platform.allCases {
                #expect(try await fixture.sell(platform, 1) == false, "\(platform) sells nothing more")
            }
            try await fixture.expectPublishSafety()
            try await Self.expectClosedAnnounced(logs)
        }
    }

    /// The daemon's own figure: "red alert: every platform is closed" with ELAPSED_MS, once.
    static func expectClosedAnnounced(_ logs: LogCapture) async throws {
        #expect(try await QueueTesting.eventually(timeout: .seconds(10)) {
            logs.entries.contains { $0.message == "red alert: every platform is closed" }
        }, "\(logs.entries.map(\.message).suffix(20))")
        let announced = logs.entries.filter { $0.message == "red alert: every platform is closed" }
        #expect(announced.count == 1)
        #expect(announced.first.flatMap { Int($0.fields["ELAPSED_MS"] ?? "") }.map { $0 >= 0 } == true)
    }

    /// An operator's `event close` (mode closed) closes every platform at what it sold, far below the
    /// soft cap, and nothing more is sold there.
    @Test func anEventAnOperatorClosedIsClosedOnEveryPlatform() async throws {
        try await RebalancerFixture.withPublishedAllocations { fixture in
            for _ in 0..<3 { _ = try await fixture.sell(.eventbrite, 1) }
            _ = try await fixture.sell(.luma, 1)
            #expect(try await fixture.stack.desk.close(fixture.event, by: "ana", reason: "test") == .closed)
            #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                let truth = try await fixture.simulatorSold()
                let published = try await fixture.simulatorCapacities()
                return Platform.allCases.allSatisfy { published[$0] == truth[$0] || published[$0] == nil }
                    && published[.eventbrite] == 3
            }, "every platform closed at what it sold")
            for platform in Platform.allCases {
                #expect(try await fixture.sell(platform, 1) == false, "\(platform) sells nothing more")
            }
            #expect(try await fixture.stack.desk.snapshot(fixture.event).mode == .closed)
            try await fixture.expectPublishSafety()
        }
    }

    /// Eventbrite sold 20 whose orders have not reached the daemon: the shrink its plan asks for is
    /// refused (`CAPACITY_TOTAL_TOO_SMALL`); the rebalancer reads what it sold, plans again, and moves
    /// only quota Eventbrite has not sold. The late orders are then all covered.
    @Test func aShrinkEventbriteRefusesIsPlannedAgainWithWhatItSold() async throws {
        try await RebalancerFixture.withPublishedAllocations { fixture in
            var late: [String] = []
            for _ in 0..<20 { late.append(try await fixture.sellOnThePlatformOnly(.eventbrite)) }
            for _ in 0..<26 { try await fixture.sell(.luma, 1) }
            #expect(try await fixture.refusalRecorded(.eventbrite, platformSold: 20), "the refusal is in the ledger with what Eventbrite said it sold")
            #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                (try await fixture.simulatorCapacities()[.luma] ?? 0) > 30
            }, "quota still moved to Luma")
            let allocation = try await fixture.stack.desk.snapshot(fixture.event).platforms["eventbrite"]?.allocation ?? 0
            #expect(allocation >= 20, "Eventbrite keeps the quota it sold (\(allocation))")
            for orderID in late {
                let result = try await fixture.stack.desk.apply(
                    event: fixture.event, platform: .eventbrite, orderID: orderID, quantity: 1, source: .test)
                #expect(result.outcome == .accepted, "a late Eventbrite order is covered by its allocation")
            }
            try await fixture.expectPublishSafety()
        }
    }

    /// A Meetup mutation error on a shrink: the rebalancer counts Meetup's YES RSVPs (5 not polled
    /// yet), plans again, and the shrink lands above what Meetup sold.
    @Test func aMeetupMutationErrorIsPlannedAgainWithWhatMeetupSold() async throws {
        try await RebalancerFixture.withPublishedAllocations { fixture in
            for _ in 0..<5 { _ = try await fixture.sellOnThePlatformOnly(.meetup) }
            let meetupID = try #require(fixture.ids[.meetup])
            _ = try await fixture.sim.control(
                "POST", "/control/meetup/mutation-errors",
                ["event_id": meetupID, "count": 1, "code": "INTERNAL_ERROR", "message": "try again"])
            for _ in 0..<26 { try await fixture.sell(.luma, 1) }
            #expect(try await fixture.refusalRecorded(.meetup, platformSold: 5), "the mutation error is in the ledger with what Meetup sold")
            #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                let meetup = try await fixture.simulatorCapacities()[.meetup] ?? 0
                return meetup < 30 && meetup >= 5
            }, "Meetup shrunk after the refusal, never below what it sold")
            let allocation = try await fixture.stack.desk.snapshot(fixture.event).platforms["meetup"]?.allocation ?? 0
            #expect(allocation >= 5, "Meetup keeps the quota it sold (\(allocation))")
            try await fixture.expectPublishSafety()
        }
    }

    /// In red alert every platform offers exactly what it holds: a refund there gives the ticket back
    /// to the free stock (the allocation drops with it), so the platform is closed again at what it
    /// holds now, or it would sell the refunded seat outside its allocation (G2).
    @Test func aRefundInRedAlertClosesThePlatformAgainAtWhatItHolds() async throws {
        try await RebalancerFixture.withPublishedAllocations(movesQuota: false) { fixture in
            var eventbriteOrders: [String] = []
            for platform in Platform.allCases {
                for _ in 0..<30 {
                    let order = try await fixture.sellOnThePlatformOnly(platform)
                    _ = try await fixture.stack.desk.apply(
                        event: fixture.event, platform: platform, orderID: order, quantity: 1, source: .test)
                    if platform == .eventbrite { eventbriteOrders.append(order) }
                }
            }
            #expect(try await fixture.stack.desk.snapshot(fixture.event).mode == .redAlert)
            let refunded = try #require(eventbriteOrders.last)
            let cancelled = try await fixture.sim.control(
                "POST", "/control/cancellations", ["sale_id": refunded, "platform": "eventbrite", "refund": true])
            #expect(cancelled["sale"] != nil, "\(cancelled)")
            _ = try await fixture.stack.desk.release(
                event: fixture.event, platform: .eventbrite, orderID: refunded, source: .test)
            #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                try await fixture.simulatorCapacities()[.eventbrite] == 29
            }, "Eventbrite closed again at what it holds")
            #expect(try await fixture.sell(.eventbrite, 1) == false, "the refunded seat is not on sale on Eventbrite")
            try await fixture.expectPublishSafety()
        }
    }

    /// A close lands on Eventbrite's own count (30: one sale's order has not reached the daemon),
    /// then Eventbrite cancels that sale: it holds 29 with a capacity of 30. Its count is trusted
    /// only for a while: the rebalancer closes it again, at 29, and the seat is not sold there.
    @Test func aPlatformCountThatWentStaleIsAskedAgain() async throws {
        try await RebalancerFixture.withPublishedAllocations(movesQuota: false, platformCountTrust: .seconds(1)) { fixture in
            for platform in Platform.allCases {
                for _ in 0..<(platform == .eventbrite ? 29 : 30) { try await fixture.sell(platform, 1) }
            }
            let unreported = try await fixture.sellOnThePlatformOnly(.eventbrite)
            // The box office's ticket reaches the soft cap (90 counted): red alert.
            _ = try await fixture.stack.desk.sell(fixture.event, quantity: 1, approvedBy: "ana", saleID: "bo-\(unreported)")
            #expect(try await fixture.stack.desk.snapshot(fixture.event).mode == .redAlert)
            #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                try await fixture.stack.ledger.capacityChanges(fixture.event).contains {
                    $0.kind == .close && $0.platform == .eventbrite && $0.capacity == 30
                }
            }, "Eventbrite closed at its own count, 30")
            #expect(try await fixture.simulatorCapacities()[.eventbrite] == 30)
            // While the sale stands, each look after the trust ran out reads Eventbrite's count
            // again (one call) instead of closing at 29 and being refused.
            let writes = try await fixture.capacityWrites(.eventbrite)
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(try await fixture.capacityWrites(.eventbrite) == writes, "no close again while Eventbrite still holds 30")
            let cancelled = try await fixture.sim.control(
                "POST", "/control/cancellations", ["sale_id": unreported, "platform": "eventbrite", "refund": true])
            #expect(cancelled["sale"] != nil, "\(cancelled)")
            #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                try await fixture.simulatorCapacities()[.eventbrite] == 29
            }, "Eventbrite closed again at what it holds now")
            #expect(try await fixture.sell(.eventbrite, 1) == false, "the cancelled seat is not on sale on Eventbrite")
        }
    }

    /// The listings were already at their allocations (30) when the daemon first looked, so its
    /// first pass publishes nothing; quota that later leaves a slow platform is still shrunk there
    /// (and confirmed) before the fast one grows: the first look is written to the ledger.
    @Test func listingsAlreadyAtTheirAllocationsAreShrunkBeforeQuotaLeaves() async throws {
        try await RebalancerFixture.withPublishedAllocations(listedAt: 30) { fixture in
            let listings = try await fixture.stack.ledger.listings(fixture.event)
            #expect(try await QueueTesting.eventually(timeout: .seconds(10)) {
                let published = try await fixture.stack.ledger.listings(fixture.event)
                return Platform.allCases.allSatisfy { published[$0]?.published == 30 }
            }, "the first look is in the ledger: \(listings.mapValues(\.published))")
            // Later passes start from it: nothing is published again where the platform showed 30
            // (Luma, which does not say, is shrunk to 30 once).
            try await Task.sleep(for: .milliseconds(2_500))
            let republished = try await fixture.stack.ledger.capacityChanges(fixture.event).filter {
                $0.platform != .luma && ($0.kind == .grow || $0.kind == .shrink)
            }
            #expect(republished.isEmpty, "published again: \(republished.map { "\($0.platform?.rawValue ?? "") \($0.kind) \($0.capacity ?? 0)" })")
            for _ in 0..<26 { try await fixture.sell(.luma, 1) }
            #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                (try await fixture.simulatorCapacities()[.luma] ?? 0) > 30
            }, "quota moved to Luma")
            try await fixture.expectPublishSafety()
        }
    }

    /// A static split (no quota moves) still publishes the allocations and closes at the soft cap.
    @Test func aStaticSplitPublishesAndClosesButMovesNothing() async throws {
        let logs = LogCapture()
        try await RebalancerFixture.withPublishedAllocations(movesQuota: false, logs: logs) { fixture in
            var sold = 0
            for _ in 0..<40 where try await fixture.sell(.eventbrite, 1) { sold += 1 }
            #expect(sold == 30, "Eventbrite sells its 30 and no more")
            try await Task.sleep(for: .seconds(2))
            #expect(try await fixture.simulatorCapacities()[.eventbrite] == 30)
            let changes = try await fixture.stack.ledger.capacityChanges(fixture.event)
            #expect(!changes.contains { $0.kind == .transfer })
            try await fixture.expectPublishSafety()
            // Every platform sells out its 30: the soft cap (90) is reached with nothing left to
            // close, and the daemon still says every platform is closed.
            for platform in [Platform.luma, .meetup] {
                for _ in 0..<30 { try await fixture.sell(platform, 1) }
            }
            #expect(try await fixture.stack.desk.snapshot(fixture.event).mode == .redAlert)
            try await Self.expectClosedAnnounced(logs)
        }
    }
}

/// One event of capacity 100 listed on the three simulated platforms, the gateway and the desk.
struct RebalancerFixture {
    let sim: TestSimulator
    let stack: TestStack
    let event: EventID
    let ids: [Platform: String]
    let gateway: PlatformGateway
    let curl: CurlClient
    /// The capacity each simulated listing started with (nil: no limit).
    var listedAt: Int? = nil

    /// `listedAt`: the capacity each simulated listing starts with (nil: no limit).
    static func open(sim: TestSimulator, stack: TestStack, listedAt: Int? = nil) async throws -> RebalancerFixture {
        let tag = UUID().uuidString.prefix(8).lowercased()
        // Tokens of the test's own: the throttle buckets are per token.
        func token(_ platform: Platform) -> String { "\(platform.rawValue)-\(tag)" }
        func base(_ platform: Platform) -> String {
            switch platform {
            case .eventbrite: sim.eventbriteBase
            case .luma: sim.lumaBase
            case .meetup: sim.meetupBase
            }
        }
        try await sim.control(
            "POST", "/control/credentials",
            Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0.rawValue, [token($0)]) }))
        let event = try TestServers.eventID("rebalance")
        let policy = try CapacityPolicy(capacity: RebalancerTests.capacity)
        try await stack.desk.create(id: event, name: "Rebalanced", policy: policy, split: .equal)
        var ids: [Platform: String] = [:]
        var endpoints: [Platform: PlatformEndpoint] = [:]
        for platform in Platform.allCases {
            // Ids of the test's own: the simulator's generated ones repeat across in-process simulators.
            let chosen = platform == .luma ? "evt-\(tag)" : String(Int.random(in: 100_000_000...999_999_999))
            let created = try await sim.control(
                "POST", "/control/events",
                ["platform": platform.rawValue, "id": chosen, "capacity": listedAt.map { $0 as Any } ?? NSNull()])
            let id = try #require(created["id"] as? String)
            ids[platform] = id
            try await stack.desk.link(event, platform: platform, platformEventID: id, ticketClassID: nil)
            endpoints[platform] = PlatformEndpoint(
                platform: platform, credential: PlatformCredential(token(platform)), baseURL: base(platform))
        }
        let curl = CurlClient()
        let gateway = PlatformGateway(
            endpoints: endpoints, throttler: try Throttler(redis: stack.redis, budgets: try Self.budgets()), curl: curl,
            logger: Logger(label: "test.rebalancer.gateway"))
        return RebalancerFixture(
            sim: sim, stack: stack, event: event, ids: ids, gateway: gateway, curl: curl, listedAt: listedAt)
    }

    /// The platforms' real limits, with a burst large enough for a test's passes: with the standard
    /// Eventbrite burst (10 for capacity pushes, then one call every 2 s) a loaded machine's passes
    /// queue behind each other for longer than the test waits.
    static func budgets() throws -> [Platform: Budget] {
        [
            .eventbrite: try Budget(limit: 2_000, periodMicros: 3_600_000_000, marginPercent: 50, burst: 500, failsafeReserve: 10),
            .luma: try Budget(limit: 200, periodMicros: 60_000_000, marginPercent: 50, burst: 90, failsafeReserve: 10),
            .meetup: try Budget(limit: 500, periodMicros: 60_000_000, marginPercent: 50, burst: 200, failsafeReserve: 40),
        ]
    }

    /// A fixture with its rebalancer running, once the first pass published each allocation (30 per
    /// platform; the simulator's events start unlimited); closed and stopped after `body`.
    static func withPublishedAllocations(
        movesQuota: Bool = true, logs: LogCapture? = nil, platformCountTrust: Duration = .seconds(30),
        listedAt: Int? = nil, _ body: (RebalancerFixture) async throws -> Void
    ) async throws {
        try await TestSimulator.with { sim in
            try await TestStack.with { stack in
                let fixture = try await RebalancerFixture.open(sim: sim, stack: stack, listedAt: listedAt)
                defer { fixture.close() }
                let rebalancer = try fixture.rebalancer(
                    movesQuota: movesQuota, platformCountTrust: platformCountTrust, logs: logs)
                let running = Task { try await rebalancer.run() }
                defer { running.cancel() }
                // Listings created at 30 change nothing on the simulator: the test looks at the ledger.
                if listedAt == nil {
                    #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                        try await fixture.simulatorCapacities() == [.eventbrite: 30, .luma: 30, .meetup: 30]
                    })
                }
                try await body(fixture)
            }
        }
    }

    func close() {
        let curl = self.curl
        Task { await curl.shutdown() }
    }

    /// A rebalancer with short intervals: a pass every second (unless `intervalMilliseconds` says
    /// otherwise), a 20 s horizon, moves from 1 ticket; its log goes to `logs` when given.
    func rebalancer(
        movesQuota: Bool = true, intervalMilliseconds: Int64 = 1_000, triggerShare: Double = 0.8,
        gate: WorkGate = WorkGate(), platformCountTrust: Duration = .seconds(30), logs: LogCapture? = nil
    ) throws -> Rebalancer {
        var configuration = Rebalancer.Configuration()
        configuration.platformCountTrust = platformCountTrust
        configuration.watchInterval = .milliseconds(50)
        configuration.eventRefresh = .milliseconds(500)
        configuration.trigger = .init(
            intervalMilliseconds: intervalMilliseconds, triggerShare: triggerShare, minimumGapMilliseconds: 200,
            velocityWindowMilliseconds: 5_000)
        configuration.policy = .init(
            horizonSeconds: 20, minimumReserve: 2, minimumTransferTickets: 1, minimumTransferShare: try Ratio(partsPerMillion: 0),
            movesQuota: movesQuota)
        configuration.confirmInterval = .milliseconds(100)
        let event = self.event
        configuration.selection = { $0.id == event }  // the ledger is shared with other tests
        var logger = logs.map { logs in Logger(label: "test.rebalancer") { _ in logs } } ?? Logger(label: "test.rebalancer")
        logger.logLevel = logs == nil ? .notice : .info
        return Rebalancer(
            desk: stack.desk, publisher: CapacityPublisher(gateway: gateway), locks: EventLock(redis: stack.redis),
            gate: gate, configuration: configuration, logger: logger)
    }

    /// Sells one order on the platform (simulator) and applies it as a worker would; false when the platform refused.
    @discardableResult
    func sell(_ platform: Platform, _ quantity: Int) async throws -> Bool {
        let answer = try await sim.control(
            "POST", "/control/sales",
            ["platform": platform.rawValue, "event_id": try #require(ids[platform]), "quantity": quantity])
        guard answer["outcome"] as? String == "sold", let sale = answer["sale"] as? [String: Any],
            let saleID = sale["id"] as? String
        else { return false }
        let result = try await stack.desk.apply(
            event: event, platform: platform, orderID: saleID, quantity: quantity, source: .test)
        #expect(result.outcome != .overbooked, "a sale the platform made is covered")
        return true
    }

    /// Sells one ticket on the platform (simulator) whose order has not reached the daemon (a late
    /// webhook, a poll to come); returns the platform's order id.
    func sellOnThePlatformOnly(_ platform: Platform) async throws -> String {
        let answer = try await sim.control(
            "POST", "/control/sales", ["platform": platform.rawValue, "event_id": try #require(ids[platform]), "quantity": 1])
        let sale = try #require(answer["sale"] as? [String: Any], "the platform sold: \(answer)")
        return try #require(sale["id"] as? String)
    }

    /// Whether, within 15 s, the ledger holds a `refused` row for `platform` with what it said it sold.
    func refusalRecorded(_ platform: Platform, platformSold: Int) async throws -> Bool {
        try await QueueTesting.eventually(timeout: .seconds(15)) {
            try await stack.ledger.capacityChanges(event).contains {
                $0.kind == .refused && $0.platform == platform && $0.detail.contains("sold on the platform: \(platformSold)")
            }
        }
    }

    /// Capacity writes the platform received (Eventbrite: POSTs).
    func capacityWrites(_ platform: Platform) async throws -> Int {
        let requests = try await sim.control("GET", "/control/requests")["requests"] as? [[String: Any]] ?? []
        return requests.filter { $0["platform"] as? String == platform.rawValue && $0["method"] as? String == "POST" }.count
    }

    /// Each platform's current capacity as the simulator enforces it (nil: unlimited), closed Meetup as its sold.
    func simulatorCapacities() async throws -> [Platform: Int] {
        let changes = try await sim.control("GET", "/control/capacity-changes")["capacity_changes"] as? [[String: Any]] ?? []
        var capacities: [Platform: Int] = [:]
        for change in changes {
            guard let name = change["platform"] as? String, let platform = Platform(rawValue: name),
                change["event_id"] as? String == ids[platform]
            else { continue }
            if change["closed"] as? Bool == true, let sold = change["sold"] as? Int {
                capacities[platform] = sold
            } else {
                capacities[platform] = change["new"] as? Int
            }
        }
        return capacities
    }

    /// Tickets each platform holds (the simulator's truth).
    func simulatorSold() async throws -> [Platform: Int] {
        let sales = try await sim.control("GET", "/control/sales")["sales"] as? [[String: Any]] ?? []
        var held: [Platform: Int] = [.eventbrite: 0, .luma: 0, .meetup: 0]
        for sale in sales {
            guard let name = sale["platform"] as? String, let platform = Platform(rawValue: name),
                sale["event_id"] as? String == ids[platform]
            else { continue }
            held[platform, default: 0] += sale["tickets_held"] as? Int ?? 0
        }
        return held
    }

    /// G2 at every capacity change the simulator received: Σ max(published, sold) ≤ C − S (nothing
    /// was absorbed here), with each platform's published and sold as they stood at that instant.
    func expectPublishSafety() async throws {
        let changes = try await sim.control("GET", "/control/capacity-changes")["capacity_changes"] as? [[String: Any]] ?? []
        var published: [Platform: Int] = listedAt.map { at in Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, at) }) } ?? [:]
        var sold: [Platform: Int] = [:]
        var checked = 0
        for change in changes {
            guard let name = change["platform"] as? String, let platform = Platform(rawValue: name),
                change["event_id"] as? String == ids[platform]
            else { continue }
            let held = try #require(change["sold"] as? Int, "the simulator records sold with each change")
            sold[platform] = held
            published[platform] = change["closed"] as? Bool == true ? held : (change["new"] as? Int ?? Int.max / 4)
            guard published.count == Platform.allCases.count else { continue }
            let offered = Platform.allCases.reduce(0) { $0 + max(published[$1] ?? 0, sold[$1] ?? 0) }
            #expect(offered <= 90, "G2 at change \(checked): \(published) with sold \(sold)")
            checked += 1
        }
        #expect(checked > 0)
    }
}
