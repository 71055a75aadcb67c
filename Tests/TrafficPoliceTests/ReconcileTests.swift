import CurlBridge
import Foundation
import Logging
import PlatformClients
import Testing
import TrafficPoliceCore

@testable import TrafficPolice

/// The nightly reconciliation against the in-process simulator (no webhook target: every webhook
/// is lost) and the real Redis and PostgreSQL: one event sold on all three platforms, of which the
/// ledger heard only part, and refunds, cancellations and changes it never heard of.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ReconcileTests {
    /// One test's world: the simulator, a ledger event linked to an event on each simulated platform,
    /// and a gateway whose credentials (so throttle buckets) are the test's own.
    struct World {
        let sim: TestSimulator
        let stack: TestStack
        let event: EventID
        let platformEvents: [Platform: String]
        let endpoints: [Platform: PlatformEndpoint]
        let curl: CurlClient

        /// A reconciler over `endpoints` (default: every platform's real one), logging to `logs` when given.
        func reconciler(_ endpoints: [Platform: PlatformEndpoint]? = nil, logs: LogCapture? = nil) throws -> Reconciler {
            let gateway = PlatformGateway(
                endpoints: endpoints ?? self.endpoints, throttler: try Throttler(redis: stack.redis, budgets: [:]),
                curl: curl, logger: Logger(label: "test.gateway"))
            var configuration = Reconciler.Configuration()
            configuration.pageSize = 2  // several pages per platform
            configuration.lockWait = .seconds(5)
            configuration.readRetryDelay = .milliseconds(50)
            return Reconciler(
                desk: stack.desk, gateway: gateway, locks: EventLock(redis: stack.redis), configuration: configuration,
                logger: logs.map { capture in Logger(label: "test.reconcile") { _ in capture } }
                    ?? Logger(label: "test.reconcile"))
        }

        /// Sells on the simulated platform: the platform's order id and the sale id.
        func sell(_ platform: Platform, _ quantity: Int) async throws -> (order: String, sale: String) {
            let answer = try await sim.control(
                "POST", "/control/sales",
                ["platform": platform.rawValue, "event_id": platformEvents[platform] ?? "", "quantity": quantity])
            let sale = answer["sale"] as? [String: Any]
            let ids = sale?[platform.rawValue] as? [String: Any]
            let key = ["eventbrite": "order_id", "luma": "guest_id", "meetup": "rsvp_id"][platform.rawValue] ?? ""
            guard answer["outcome"] as? String == "sold", let order = ids?[key] as? String, let id = sale?["id"] as? String
            else { throw HarnessError("unexpected sale answer \(answer)") }
            return (order, id)
        }

        func cancel(_ sale: String) async throws {
            try await sim.control("POST", "/control/cancellations", ["sale_id": sale])
        }

        /// What the simulator says each platform order holds now: (platform, order id) → tickets.
        func truth() async throws -> [String: Int] {
            var held: [String: Int] = [:]
            for platform in Platform.allCases {
                let sales = try await sim.control("GET", "/control/sales?platform=\(platform.rawValue)")["sales"]
                for sale in sales as? [[String: Any]] ?? [] {
                    let ids = sale[platform.rawValue] as? [String: Any]
                    let order = (ids?["order_id"] ?? ids?["guest_id"] ?? ids?["rsvp_id"]) as? String ?? "?"
                    held["\(platform.rawValue):\(order)"] = sale["tickets_held"] as? Int ?? -1
                }
            }
            return held
        }

        /// What the ledger's orders hold: (platform, order id) → tickets.
        func ledger() async throws -> [String: Int] {
            var held: [String: Int] = [:]
            for order in try await stack.ledger.orders(event) {
                guard case .platform(let platform) = order.channel else { continue }
                held["\(platform.rawValue):\(order.orderID)"] = order.heldQuantity
            }
            return held
        }
    }

    static func withWorld(capacity: Int = 300, _ body: (World) async throws -> Void) async throws {
        try await TestSimulator.with { sim in
            try await TestStack.with { stack in
                let tag = UUID().uuidString.prefix(8).lowercased()
                let credentials = ["eventbrite": "eb-\(tag)", "luma": "luma-\(tag)", "meetup": "mu-\(tag)"]
                try await sim.control("POST", "/control/credentials", credentials)
                let platformEvents: [Platform: String] = [
                    .eventbrite: String(Int.random(in: 100_000_000...999_999_999)), .luma: "evt-\(tag)",
                    .meetup: "3\(Int.random(in: 10_000_000...99_999_999))",
                ]
                let event = try TestServers.eventID("reconcile")
                try await stack.desk.create(
                    id: event, name: "Reconcile", policy: try CapacityPolicy(capacity: capacity), split: .equal)
                var endpoints: [Platform: PlatformEndpoint] = [:]
                let bases: [Platform: String] = [.eventbrite: sim.eventbriteBase, .luma: sim.lumaBase, .meetup: sim.meetupBase]
                for platform in Platform.allCases {
                    let id = platformEvents[platform] ?? ""
                    try await sim.control(
                        "POST", "/control/events", ["platform": platform.rawValue, "id": id, "capacity": 50])
                    try await stack.desk.link(event, platform: platform, platformEventID: id, ticketClassID: nil)
                    endpoints[platform] = PlatformEndpoint(
                        platform: platform, credential: PlatformCredential(credentials[platform.rawValue] ?? ""),
                        baseURL: bases[platform] ?? "")
                }
                let curl = CurlClient()
                let world = World(
                    sim: sim, stack: stack, event: event, platformEvents: platformEvents, endpoints: endpoints,
                    curl: curl)
                // Other suites' services act on every linked event of the shared ledger (the Luma
                // sweep, the Meetup poller): the event and its links go with the test.
                func cleanUp() async {
                    await curl.shutdown()
                    _ = try? await stack.postgres.query("DELETE FROM events WHERE id = $1", [event.rawValue])
                }
                do {
                    try await body(world)
                    await cleanUp()
                } catch {
                    await cleanUp()
                    throw error
                }
            }
        }
    }

    /// Sales on every platform; the ledger applied some (as the workers would have), then refunds,
    /// cancellations and a change of guests happened that no webhook or poll brought in.
    /// The kinds of drift each platform must show, by order.
    static func dropSomeDeliveries(_ world: World) async throws -> [String: OrderDrift.Kind] {
        let desk = world.stack.desk
        let event = world.event
        var expected: [String: OrderDrift.Kind] = [:]
        // Eventbrite: one order applied and kept, one never heard of, one applied then refunded.
        let kept = try await world.sell(.eventbrite, 2)
        _ = try await desk.apply(event: event, platform: .eventbrite, orderID: kept.order, quantity: 2, source: .test)
        let unseen = try await world.sell(.eventbrite, 3)
        expected["eventbrite:\(unseen.order)"] = .missing
        let refunded = try await world.sell(.eventbrite, 1)
        _ = try await desk.apply(event: event, platform: .eventbrite, orderID: refunded.order, quantity: 1, source: .test)
        try await world.cancel(refunded.sale)
        expected["eventbrite:\(refunded.order)"] = .released
        // Luma: a guest never heard of, one applied then declined, one cancelled before anyone heard.
        let guest = try await world.sell(.luma, 2)
        expected["luma:\(guest.order)"] = .missing
        let declined = try await world.sell(.luma, 1)
        _ = try await desk.apply(event: event, platform: .luma, orderID: declined.order, quantity: 1, source: .test)
        try await world.cancel(declined.sale)
        expected["luma:\(declined.order)"] = .released
        let gone = try await world.sell(.luma, 1)
        try await world.cancel(gone.sale)
        // Meetup: an RSVP never polled, one applied then turned NO, one whose guests grew.
        let rsvp = try await world.sell(.meetup, 2)
        expected["meetup:\(rsvp.order)"] = .missing
        let no = try await world.sell(.meetup, 1)
        _ = try await desk.amend(event: event, platform: .meetup, orderID: no.order, quantity: 1, source: .test)
        try await world.cancel(no.sale)
        expected["meetup:\(no.order)"] = .released
        let grown = try await world.sell(.meetup, 1)
        _ = try await desk.amend(event: event, platform: .meetup, orderID: grown.order, quantity: 1, source: .test)
        try await world.sim.control("POST", "/control/meetup/guests", ["rsvp_id": grown.order, "guests_count": 2])
        expected["meetup:\(grown.order)"] = .changed
        return expected
    }

    static func kinds(_ run: ReconcileRun) -> [String: OrderDrift.Kind] {
        var kinds: [String: OrderDrift.Kind] = [:]
        for event in run.events {
            for platform in event.platforms {
                for drift in platform.drift { kinds["\(platform.platform.rawValue):\(drift.orderID)"] = drift.kind }
            }
        }
        return kinds
    }

    @Test func aDryRunReportsTheDriftARealRunFixesItAndASecondRunFindsNone() async throws {
        try await Self.withWorld { world in
            let expected = try await Self.dropSomeDeliveries(world)
            let logs = LogCapture()
            let reconciler = try world.reconciler(logs: logs)
            let before = try await world.ledger()
            let soldBefore = try await world.stack.ledger.event(world.event)?.sold
            #expect(try await world.truth() != before)

            // Dry run: the drift is reported, nothing changes.
            let dry = try await reconciler.reconcile(event: world.event, dryRun: true)
            #expect(Self.kinds(dry) == expected)
            #expect(dry.exitCode(dryRun: true) == 3 && !dry.agrees)
            let readCounts = dry.events.first?.platforms.map { "\($0.platform.rawValue)=\($0.ordersRead)" }
            #expect(readCounts == ["eventbrite=3", "luma=3", "meetup=3"])
            #expect(dry.events.first?.fixed == 0)
            #expect(try await world.ledger() == before)
            #expect(try await world.stack.ledger.event(world.event)?.sold == soldBefore)

            // A real run applies the platforms' states: the ledger holds what the platforms do.
            let real = try await reconciler.reconcile(event: world.event, dryRun: false)
            #expect(Self.kinds(real) == expected)
            #expect(real.exitCode(dryRun: false) == 0 && real.agrees)
            #expect(real.events.first?.fixed == expected.count && real.events.first?.outcome == .fixed)
            let truth = try await world.truth()
            let ledger = try await world.ledger()
            for (order, held) in truth { #expect((ledger[order] ?? 0) == held, "\(order)") }
            #expect(try await world.stack.ledger.event(world.event)?.sold == truth.values.reduce(0, +))
            // Redis agrees with the ledger it was changed with.
            let counters = try #require(try await world.stack.reservations.counters(event: world.event))
            #expect(counters.capacity - counters.stock == truth.values.reduce(0, +))

            // Idempotent: a second run finds nothing to do and changes nothing.
            let again = try await reconciler.reconcile(event: world.event, dryRun: false)
            #expect(Self.kinds(again).isEmpty && again.exitCode(dryRun: false) == 0)
            #expect(again.events.first?.outcome == .agrees)
            #expect(try await world.ledger() == ledger)

            // journald: a notice per platform and one per event, with the structured fields.
            let notices = logs.entries.filter { $0.level == .notice && $0.fields["EVENT_ID"] == world.event.rawValue }
            #expect(notices.count == 3 * 4)
            let realEventbrite = notices.first {
                $0.fields["PLATFORM"] == "eventbrite" && $0.fields["DRY_RUN"] == "false" && $0.fields["FIXED"] != "0"
            }
            #expect(realEventbrite?.fields["DRIFT"] == "2" && realEventbrite?.fields["FIXED"] == "2")
            let summaries = notices.filter { $0.fields["PLATFORM"] == nil }.map { "\($0.fields["DRIFT"] ?? "?")/\($0.fields["FIXED"] ?? "?")" }
            #expect(summaries == ["\(expected.count)/0", "\(expected.count)/\(expected.count)", "0/0"])

            let rows = try await world.stack.ledger.reconciliations(world.event)
            #expect(rows.map(\.outcome) == ["agrees", "fixed", "drift"])
            #expect(rows.map(\.dryRun) == [false, false, true])
            #expect(rows.map(\.driftCount) == [0, expected.count, expected.count])
            #expect(rows.map(\.fixed) == [0, expected.count, 0])
            #expect(rows.last?.ordersRead == ["eventbrite": 3, "luma": 3, "meetup": 3])
        }
    }

    @Test func anUnreachablePlatformIsReportedAndTheOthersAreStillFixed() async throws {
        try await Self.withWorld { world in
            let expected = try await Self.dropSomeDeliveries(world)
            var endpoints = world.endpoints
            // Nothing listens on port 9 of the loopback: Meetup cannot be read; Luma has no credential.
            endpoints[.meetup] = PlatformEndpoint(
                platform: .meetup, credential: PlatformCredential("mu-down"), baseURL: "http://127.0.0.1:9/gql-ext")
            endpoints[.luma] = nil
            let run = try await world.reconciler(endpoints).reconcile(event: world.event, dryRun: false)
            #expect(run.exitCode(dryRun: false) == 69)
            let event = try #require(run.events.first)
            #expect(Set(event.unreadable.keys) == [.meetup, .luma])
            #expect(event.outcome == .unreadable)
            #expect(Self.kinds(run) == expected.filter { $0.key.hasPrefix("eventbrite:") })
            // Eventbrite was fixed; Luma and Meetup were left as they were.
            let truth = try await world.truth()
            let ledger = try await world.ledger()
            for (order, held) in truth where order.hasPrefix("eventbrite:") { #expect((ledger[order] ?? 0) == held) }
            for order in expected.keys where !order.hasPrefix("eventbrite:") {
                #expect((ledger[order] ?? 0) != truth[order], "\(order) was changed")
            }
            let row = try #require(try await world.stack.ledger.reconciliations(world.event).first)
            #expect(row.outcome == "unreadable" && Set(row.unreadable.keys) == ["meetup", "luma"])
        }
    }

    /// A missed order nothing covers is decided overbooked and flagged, as a worker would have:
    /// known to the ledger, so the ledger agrees with the platform (exit 0) and a second run
    /// neither finds drift nor flags it again.
    @Test func aMissedOrderNothingCoversIsFlaggedOnce() async throws {
        // Capacity 10: safety stock 1, allocations 3/3/3; an Eventbrite order of 5 does not fit.
        try await Self.withWorld(capacity: 10) { world in
            let big = try await world.sell(.eventbrite, 5)
            let reconciler = try world.reconciler()
            let run = try await reconciler.reconcile(event: world.event, dryRun: false)
            #expect(Self.kinds(run) == ["eventbrite:\(big.order)": .missing])
            #expect(run.exitCode(dryRun: false) == 0 && run.agrees)
            let eventbrite = try #require(run.events.first?.platforms.first { $0.platform == .eventbrite })
            #expect(eventbrite.fixed == 1 && eventbrite.overbooked == 1 && eventbrite.remaining.isEmpty)
            let order = try #require(try await world.stack.ledger.order(world.event, platform: .eventbrite, orderID: big.order))
            #expect(order.outcome == .overbooked && order.heldQuantity == 0 && order.target == 5)
            #expect(try await world.stack.ledger.event(world.event)?.sold == 0)
            let again = try await reconciler.reconcile(event: world.event, dryRun: false)
            #expect(Self.kinds(again).isEmpty && again.exitCode(dryRun: false) == 0)
            let changes = try await world.stack.ledger.orderChanges(world.event, platform: .eventbrite, orderID: big.order)
            #expect(changes.map(\.change) == ["overbooked_flagged"])
        }
    }

    @Test func anEventLockedElsewhereIsNotReconciled() async throws {
        try await Self.withWorld { world in
            let lease = try #require(try await EventLock(redis: world.stack.redis).acquire(world.event, ttl: .seconds(30)))
            var configuration = Reconciler.Configuration()
            configuration.lockWait = .milliseconds(300)
            let reconciler = Reconciler(
                desk: world.stack.desk,
                gateway: PlatformGateway(
                    endpoints: world.endpoints, throttler: try Throttler(redis: world.stack.redis, budgets: [:]),
                    curl: world.curl, logger: Logger(label: "test.gateway")),
                locks: EventLock(redis: world.stack.redis), configuration: configuration,
                logger: Logger(label: "test.reconcile"))
            let run = try await reconciler.reconcile(event: world.event, dryRun: true)
            #expect(run.events.first?.failure != nil && run.events.first?.outcome == .failed)
            #expect(run.exitCode(dryRun: true) == 69)
            #expect(try await EventLock(redis: world.stack.redis).release(lease))
        }
    }
}
