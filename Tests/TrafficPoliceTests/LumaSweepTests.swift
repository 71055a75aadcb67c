import CurlBridge
import Foundation
import Logging
import PlatformClients
import RedisBridge
import ServiceLifecycle
import Testing
import TrafficPoliceCore

@testable import TrafficPolice

/// The Luma guest sweep against `platform-sim` (no webhook target: every webhook is lost) and the
/// real Redis and PostgreSQL: corrections through the queue and the worker handler into the ledger.
@Suite(.serialized, .timeLimit(.minutes(2))) struct LumaSweepTests {
    /// One test's world: a simulator, a ledger event linked to a simulated Luma event, a queue, a
    /// gateway whose Luma key (and so throttle bucket) is the test's own.
    struct World {
        let sim: TestSimulator
        let stack: TestStack
        let queue: DeliveryQueue
        let gateway: PlatformGateway
        let curl: CurlClient
        let event: EventID
        let lumaEvent: String
        let lumaKey: String

        var luma: LumaClient? { gateway.luma(.orderLookup) }

        func sweep(_ configure: (inout LumaGuestSweep.Configuration) -> Void = { _ in }) -> LumaGuestSweep {
            var configuration = LumaGuestSweep.Configuration()
            configuration.lockKeyPrefix = "tp:luma-sweep-test:\(lumaKey)"
            configure(&configuration)
            return LumaGuestSweep(gateway: gateway, desk: stack.desk, queue: queue, configuration: configuration)
        }

        /// Hands every waiting job to the worker handler (as `QueueWorkers` does); the jobs handled.
        @discardableResult
        func drain() async throws -> [QueueJob] {
            let workers = QueueWorkers(queue: queue, handler: OrderDeliveryHandler(desk: stack.desk))
            var handled: [QueueJob] = []
            while true {
                let jobs = try await queue.nextJobs(consumer: "sweep-test", count: 50)
                if jobs.isEmpty { return handled }
                for job in jobs { await workers.process(job) }
                handled += jobs
            }
        }

        func held(_ guestID: String) async throws -> Int? {
            try await stack.ledger.order(event, platform: .luma, orderID: guestID)?.heldQuantity
        }
    }

    static func withWorld(
        capacity: Int = 100, lumaCapacity: Int = 10, budget: Budget? = nil, _ body: (World) async throws -> Void
    ) async throws {
        try await TestSimulator.with { sim in
            try await TestStack.with { stack in
                var queueConfiguration = try QueueTesting.configuration()
                queueConfiguration.blockTime = .zero
                try await QueueTesting.withQueue(stack.redis, queueConfiguration) { queue in
                    let lumaKey = "luma-test-\(UUID().uuidString.prefix(8).lowercased())"
                    try await sim.control("POST", "/control/credentials", ["luma": [lumaKey]])
                    let lumaEvent = "evt-\(UUID().uuidString.prefix(12).lowercased())"
                    try await sim.control(
                        "POST", "/control/events",
                        ["platform": "luma", "id": lumaEvent, "capacity": lumaCapacity, "waitlist": true])
                    let event = try TestServers.eventID("sweep")
                    try await stack.desk.create(
                        id: event, name: "Sweep", policy: try CapacityPolicy(capacity: capacity), split: .equal)
                    try await stack.desk.link(event, platform: .luma, platformEventID: lumaEvent, ticketClassID: nil)
                    let throttler = try Throttler(
                        redis: stack.redis, budgets: budget.map { [.luma: $0] } ?? [:], maxWait: .seconds(60))
                    let curl = CurlClient()
                    let endpoint = PlatformEndpoint(
                        platform: .luma, credential: PlatformCredential(lumaKey), baseURL: sim.lumaBaseURL)
                    let gateway = PlatformGateway(
                        endpoints: [.luma: endpoint], throttler: throttler, curl: curl,
                        logger: Logger(label: "test.gateway"))
                    let world = World(
                        sim: sim, stack: stack, queue: queue, gateway: gateway, curl: curl, event: event,
                        lumaEvent: lumaEvent, lumaKey: lumaKey)
                    do {
                        try await body(world)
                        await curl.shutdown()
                    } catch {
                        await curl.shutdown()
                        throw error
                    }
                }
            }
        }
    }

    @Test func aSweepAfterLostWebhooksBringsTheLedgerInStepOnce() async throws {
        try await Self.withWorld(lumaCapacity: 10) { world in
            let sim = world.sim
            // Three approved guests no webhook told the daemon about.
            let a = try await sim.lumaSale(event: world.lumaEvent, quantity: 2)
            let b = try await sim.lumaSale(event: world.lumaEvent, quantity: 1)
            let c = try await sim.lumaSale(event: world.lumaEvent, quantity: 3)
            // Two guests the daemon did hear of, then lost the webhook that changed them:
            // one cancelled (declined), one moved to the waitlist.
            let d = try await sim.lumaSale(event: world.lumaEvent, quantity: 1)
            let e = try await sim.lumaSale(event: world.lumaEvent, quantity: 2)
            for (guest, quantity) in [(d.guestID, 1), (e.guestID, 2)] {
                try await world.stack.desk.apply(
                    event: world.event, platform: .luma, orderID: guest, quantity: quantity, source: .test)
            }
            try await sim.control("POST", "/control/cancellations", ["sale_id": d.saleID])
            let luma = try #require(world.luma)
            try await luma.updateGuestStatus(eventID: world.lumaEvent, guestID: e.guestID, status: .waitlist)
            // A guest cancelled before the daemon heard of it, and one that joined the waitlist.
            let f = try await sim.lumaSale(event: world.lumaEvent, quantity: 1)
            try await sim.control("POST", "/control/cancellations", ["sale_id": f.saleID])
            let w = try await sim.lumaSale(event: world.lumaEvent, quantity: 9)
            #expect([a, b, c, d, e, f].allSatisfy { $0.outcome == "sold" })
            #expect(w.outcome == "waitlisted")

            let sweep = world.sweep { $0.pageSize = 3 }
            let report = try #require(try await sweep.sweep(event: world.event, lumaEventID: world.lumaEvent))
            #expect(report.complete && report.guests == 7 && report.pages == 3)
            #expect(report.drifts.isEmpty)
            let reasons = Dictionary(uniqueKeysWithValues: report.enqueued.map { ($0.guest.id, $0.reason) })
            #expect(
                reasons == [
                    a.guestID: .missingOrder, b.guestID: .missingOrder, c.guestID: .missingOrder, d.guestID: .declined,
                    e.guestID: .holdsNothing, f.guestID: .declined,
                ])

            // A sweep before the workers ran finds the same corrections pending: nothing is added.
            let pending = try #require(try await sweep.sweep(event: world.event, lumaEventID: world.lumaEvent))
            #expect(pending.enqueued.isEmpty && pending.alreadyQueued == 6)

            let handled = try await world.drain()
            #expect(handled.count == 6)
            #expect(try await world.held(a.guestID) == 2)
            #expect(try await world.held(b.guestID) == 1)
            #expect(try await world.held(c.guestID) == 3)
            #expect(try await world.held(d.guestID) == 0)
            #expect(try await world.held(e.guestID) == 0)
            // The never-seen cancelled guest left a tombstone; the waitlisted one nothing at all.
            let tombstone = try await world.stack.ledger.order(world.event, platform: .luma, orderID: f.guestID)
            #expect(tombstone?.released == true && tombstone?.heldQuantity == 0)
            #expect(try await world.stack.ledger.order(world.event, platform: .luma, orderID: w.guestID) == nil)
            #expect(try await world.stack.ledger.event(world.event)?.sold == 6)
            #expect(try await world.stack.reservations.counters(event: world.event)?.sold[.platform(.luma)] == 6)

            // The simulator's truth: every sale's tickets are what the ledger holds.
            let sales = (try await sim.control("GET", "/control/sales?platform=luma"))["sales"] as? [[String: Any]] ?? []
            #expect(sales.count == 7)
            for sale in sales {
                let guest = try #require((sale["luma"] as? [String: Any])?["guest_id"] as? String)
                #expect(try await world.held(guest) ?? 0 == sale["tickets_held"] as? Int, "\(sale)")
            }

            // In step now: a second sweep enqueues nothing and the queue stays empty.
            let second = try #require(try await sweep.sweep(event: world.event, lumaEventID: world.lumaEvent))
            #expect(second.enqueued.isEmpty && second.alreadyQueued == 0 && second.drifts.isEmpty)
            #expect(try await world.drain().isEmpty)
            #expect(try await world.stack.ledger.event(world.event)?.sold == 6)
        }
    }

    @Test func aChangedTicketCountAndAReapprovalAreQueuedAndAmended() async throws {
        try await Self.withWorld { world in
            let sale = try await world.sim.lumaSale(event: world.lumaEvent, quantity: 2)
            let back = try await world.sim.lumaSale(event: world.lumaEvent, quantity: 3)
            // The ledger knows one guest with another quantity (say, from a webhook of a former
            // state), and the other as declined (a decline the guest's approval later reversed).
            try await world.stack.desk.apply(
                event: world.event, platform: .luma, orderID: sale.guestID, quantity: 4, source: .test)
            try await world.stack.desk.apply(
                event: world.event, platform: .luma, orderID: back.guestID, quantity: 3, source: .test)
            try await world.stack.desk.release(event: world.event, platform: .luma, orderID: back.guestID, source: .test)
            let report = try #require(try await world.sweep().sweep(event: world.event, lumaEventID: world.lumaEvent))
            #expect(report.drifts.isEmpty)
            let reasons = Dictionary(uniqueKeysWithValues: report.enqueued.map { ($0.guest.id, $0.reason) })
            #expect(reasons == [sale.guestID: .quantityChanged, back.guestID: .reapproved])
            #expect(try await world.drain().count == 2)
            #expect(try await world.held(sale.guestID) == 2)
            #expect(try await world.held(back.guestID) == 3)
            #expect(try await world.stack.ledger.event(world.event)?.sold == 5)
            #expect(try await world.stack.reservations.counters(event: world.event)?.sold[.platform(.luma)] == 5)
            // In step: the next sweep queues nothing.
            let again = try #require(try await world.sweep().sweep(event: world.event, lumaEventID: world.lumaEvent))
            #expect(again.enqueued.isEmpty && again.drifts.isEmpty)
        }
    }

    @Test func theSweepStaysWithinALoweredLumaRateLimit() async throws {
        // Luma allows 6 requests per 2 s here; the throttler runs at half of it with a burst of 2.
        let budget = try Budget(limit: 6, periodMicros: 2_000_000, marginPercent: 50, burst: 2, failsafeReserve: 1)
        try await Self.withWorld(lumaCapacity: 100, budget: budget) { world in
            try await world.sim.control(
                "POST", "/control/config", ["luma": ["requests_per_window": 6, "window_seconds": 2, "block_seconds": 60]])
            for _ in 0..<12 { _ = try await world.sim.lumaSale(event: world.lumaEvent, quantity: 1) }
            let sweep = world.sweep { $0.pageSize = 1 }
            let report = try #require(try await sweep.sweep(event: world.event, lumaEventID: world.lumaEvent))
            #expect(report.complete && report.pages == 12 && report.enqueued.count == 12)
            #expect(try await world.sim.lumaRateLimited() == 0)
            #expect(try await world.sim.lumaRequests().count == 12)
            try await world.drain()
            #expect(try await world.stack.ledger.event(world.event)?.sold == 12)
        }
    }

    @Test func oneInstanceSweepsAnEventAtATime() async throws {
        try await Self.withWorld { world in
            _ = try await world.sim.lumaSale(event: world.lumaEvent, quantity: 1)
            let sweep = world.sweep()
            let key = "\(sweep.configuration.lockKeyPrefix):\(world.event.rawValue)"
            // Another instance holds the event's lock.
            _ = try await world.stack.redis.send(["SET", key, "other-instance", "PX", "60000"])
            #expect(try await sweep.sweep(event: world.event, lumaEventID: world.lumaEvent) == nil)
            #expect(try await world.sim.lumaRequests().isEmpty)
            // Its lock is never freed by this one.
            #expect(try await world.stack.redis.send(["GET", key]).string == "other-instance")
            _ = try await world.stack.redis.send(["DEL", key])
            let report = try await sweep.sweep(event: world.event, lumaEventID: world.lumaEvent)
            #expect(report?.enqueued.count == 1)
            // Released after the sweep.
            #expect(try await world.stack.redis.send(["EXISTS", key]).integer == 0)
        }
    }

    @Test func theServiceSweepsOnItsTimerAndStopsPromptlyOnGracefulShutdown() async throws {
        try await Self.withWorld { world in
            let sale = try await world.sim.lumaSale(event: world.lumaEvent, quantity: 2)
            let sweep = world.sweep {
                $0.initialDelay = .zero
                $0.jitter = .milliseconds(10)
                $0.interval = .seconds(3600)
            }
            #expect(sweep.isEnabled)
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [.init(service: sweep)], logger: Logger(label: "test.luma-sweep")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // The first pass runs at once (other tests' Luma links may fail; this event is swept).
                let swept = try await QueueTesting.eventually(timeout: .seconds(20)) {
                    try await world.queue.stats().depth > 0
                }
                #expect(swept)
                let started = ContinuousClock.now
                await group.triggerGracefulShutdown()
                try await tasks.next()
                #expect(ContinuousClock.now - started < .seconds(5))
            }
            try await world.drain()
            #expect(try await world.held(sale.guestID) == 2)
        }
    }

    /// After a pass in which some events failed, only those are swept again after the back-off —
    /// unless the next full pass is due first.
    @Test func afterAFailedPassOnlyTheFailedEventsAreSweptAgainUntilTheNextFullPass() throws {
        let schedule = LumaGuestSweep.Schedule(interval: .seconds(300), errorBackoff: .seconds(60))
        let broken = try TestServers.eventID("broken")
        #expect(schedule.next(failed: [], sinceFullPass: .seconds(5)) == .init(retry: nil, wait: .seconds(295)))
        #expect(schedule.next(failed: [broken], sinceFullPass: .seconds(5)) == .init(retry: [broken], wait: .seconds(60)))
        #expect(schedule.next(failed: [broken], sinceFullPass: .seconds(250)) == .init(retry: nil, wait: .seconds(50)))
        #expect(schedule.next(failed: [], sinceFullPass: .seconds(400)) == .init(retry: nil, wait: .zero))
    }

    @Test func withoutALumaCredentialTheServiceIdlesUntilShutdown() async throws {
        try await TestStack.with { stack in
            let throttler = try Throttler(redis: stack.redis)
            let curl = CurlClient()
            let gateway = PlatformGateway(endpoints: [:], throttler: throttler, curl: curl, logger: Logger(label: "t"))
            let sweep = LumaGuestSweep(
                gateway: gateway, desk: stack.desk, queue: DeliveryQueue(redis: stack.redis),
                configuration: { var c = LumaGuestSweep.Configuration(); c.initialDelay = .zero; return c }())
            #expect(!sweep.isEnabled)
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(services: [.init(service: sweep)], logger: Logger(label: "t")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await Task.sleep(for: .milliseconds(200))
                await group.triggerGracefulShutdown()
                try await tasks.next()
            }
            await curl.shutdown()
        }
    }
}
