import CurlBridge
import Foundation
import Logging
import PlatformClients
import RedisBridge
import ServiceLifecycle
import Testing
import TrafficPolice
import TrafficPoliceCore

@Suite(.serialized, .timeLimit(.minutes(3))) struct EventbriteResolutionTests {
    @Test func orderIDsComeOnlyFromOrderURLsUnderTheBase() throws {
        let policy = try EventbriteAPIURLPolicy(baseURL: "https://www.eventbriteapi.com/v3")
        #expect(policy.orderID(in: "https://www.eventbriteapi.com/v3/orders/1546689753/") == "1546689753")
        #expect(policy.orderID(in: "https://www.eventbriteapi.com/v3/orders/42") == "42")
        #expect(policy.orderID(in: "https://www.eventbriteapi.com/v3/events/7/attendees/9/") == nil)
        #expect(policy.orderID(in: "https://www.eventbriteapi.com/v3/orders/abc/") == nil)
        #expect(policy.orderID(in: "https://www.eventbriteapi.com/v3/orders/1/x/") == nil)
        #expect(policy.orderID(in: "https://evil.example/v3/orders/1/") == nil)
    }

    @Test func aReadingAnswersANewOrderAlwaysAndAChangeOnlyWhenReadAfterIt() {
        let order = ResolvedEventbriteOrder(eventID: "e", quantity: 2, readAtMilliseconds: 1_000)
        #expect(order.answers(action: "order.placed", receivedMilliseconds: 5_000))
        #expect(!order.answers(action: "order.refunded", receivedMilliseconds: 5_000))
        #expect(order.answers(action: "order.refunded", receivedMilliseconds: 900))
    }

    @Test func theLockHasOneHolderAndOnlyItReleasesIt() async throws {
        try await TestServers.withRedis { redis in
            let cache = EventbriteOrderCache(redis: redis)
            _ = try await redis.send("DEL", "tp:{resolve:eventbrite}:lock")
            #expect(try await cache.lock(token: "a", milliseconds: 5_000))
            #expect(try await cache.lock(token: "a", milliseconds: 5_000))  // renewed by its holder
            #expect(try await !cache.lock(token: "b", milliseconds: 5_000))
            try await cache.unlock(token: "b")
            #expect(try await !cache.lock(token: "b", milliseconds: 5_000))
            try await cache.unlock(token: "a")
            #expect(try await cache.lock(token: "b", milliseconds: 5_000))
            try await cache.unlock(token: "b")
        }
    }

    /// Orders sold on the simulated Eventbrite arrive as thin pings (some twice); the workers park
    /// them, the resolver reads the event's orders in batches and puts them back, and every order
    /// lands in the ledger once with its attendee count, for a fraction of a call per order.
    @Test func ordersAreResolvedInBatchesAndLandInTheLedgerOnce() async throws {
        try await TestStack.with { stack in
            try await TestSimulator.with { sim in
                let ebEvent = "\(Int.random(in: 100_000...999_999))"
                try #require(try await sim.answer("POST", "/control/events", ["platform": "eventbrite", "id": ebEvent, "capacity": 1_000]).status == 201)
                let event = try TestServers.eventID("eb")
                try await stack.desk.create(id: event, name: "EB", policy: try CapacityPolicy(capacity: 1_000), split: .equal)
                try await stack.desk.link(event, platform: .eventbrite, platformEventID: ebEvent, ticketClassID: nil)

                let redis = stack.redis
                let cache = EventbriteOrderCache(redis: redis)
                let policy = try EventbriteAPIURLPolicy(baseURL: sim.eventbriteBase)
                let curl = CurlClient()
                let throttler = try Throttler(
                    redis: redis,
                    budgets: [.eventbrite: try Budget.configured(for: .eventbrite, limit: 1_000_000, marginPercent: 90)])
                let endpoint = PlatformEndpoint(
                    platform: .eventbrite, credential: PlatformCredential("eb-token"), baseURL: sim.eventbriteBase)
                let gateway = PlatformGateway(
                    endpoints: [.eventbrite: endpoint], throttler: throttler, curl: curl, logger: Logger(label: "test"))
                let client = try #require(gateway.eventbrite(.orderLookup))
                defer { Task { await curl.shutdown() } }

                try await QueueTesting.withQueue(redis, try QueueTesting.configuration()) { queue in
                    var expected: [String: Int] = [:]
                    for n in 0..<120 {
                        let quantity = n % 3 + 1
                        let sold = try await sim.control(
                            "POST", "/control/sales", ["platform": "eventbrite", "event_id": ebEvent, "quantity": quantity])
                        let sale = try #require(sold["sale"] as? [String: Any])
                        let orderID = try #require((sale["eventbrite"] as? [String: Any])?["order_id"] as? String)
                        expected[orderID] = quantity
                        let apiURL = "\(sim.eventbriteBase)/orders/\(orderID)/"
                        let body = #"{"api_url":"\#(apiURL)","config":{"action":"order.placed","webhook_id":"1"}}"#
                        for _ in 0..<(n % 10 == 0 ? 2 : 1) {
                            _ = try await queue.enqueue(
                                QueueTesting.delivery("order.placed \(apiURL)", platform: .eventbrite, kind: "order.placed", body: body))
                        }
                    }
                    // A ping about something other than an order is acknowledged and ignored.
                    _ = try await queue.enqueue(
                        QueueTesting.delivery(
                            "event.updated", platform: .eventbrite, kind: "event.updated",
                            body: #"{"api_url":"\#(sim.eventbriteBase)/events/\#(ebEvent)/","config":{"action":"event.updated"}}"#))

                    var resolverConfiguration = EventbriteOrderResolver.Configuration()
                    resolverConfiguration.interval = .milliseconds(50)
                    resolverConfiguration.minReadInterval = .milliseconds(200)
                    let resolver = EventbriteOrderResolver(
                        queue: queue, delivery: EventbriteOrderDelivery(cache: cache, apiURLPolicy: policy),
                        client: client, ledger: stack.ledger, configuration: resolverConfiguration,
                        logger: Logger(label: "resolver"))
                    let handler = OrderDeliveryHandler(
                        desk: stack.desk, eventbrite: EventbriteOrderDelivery(cache: cache, apiURLPolicy: policy))
                    let group = ServiceGroup(
                        configuration: .init(services: [.init(service: resolver)], logger: Logger(label: "test")))
                    let running = Task { try await group.run() }
                    let ledger = stack.ledger
                    let wanted = expected.count
                    let done = try await QueueTesting.runWorkers(queue, handler: handler, timeout: .seconds(60)) {
                        try await ledger.orders(event).count >= wanted
                    }
                    await group.triggerGracefulShutdown()
                    try await running.value
                    #expect(done)

                    let orders = try await stack.ledger.orders(event)
                    #expect(Dictionary(uniqueKeysWithValues: orders.map { ($0.orderID, $0.heldQuantity) }) == expected)
                    #expect(try await stack.ledger.event(event)?.sold == expected.values.reduce(0, +))
                    // This event's reads and its orders' single reads (other tests' events may be read too).
                    let all = try #require(
                        try await sim.control("GET", "/control/requests?platform=eventbrite")["requests"] as? [[String: Any]])
                    let requests = all.filter {
                        let path = $0["path"] as? String ?? ""
                        return path.contains("/events/\(ebEvent)/") || expected.keys.contains { path.contains("/orders/\($0)/") }
                    }
                    let perOrder = Double(requests.count) / Double(expected.count)
                    print("Eventbrite resolution: \(requests.count) calls for \(expected.count) orders (\(perOrder) per order)")
                    #expect(perOrder <= 0.05, "\(requests.count) calls for \(expected.count) orders")
                    #expect(try await queue.stats().awaitingResolution == 0)

                    // Five orders are refunded and their webhooks lost: the periodic read of the
                    // orders that stopped attending releases them.
                    let refunded = Array(expected.keys.sorted().prefix(5))
                    for orderID in refunded {
                        #expect(try await sim.answer("POST", "/control/cancellations", ["sale_id": orderID, "platform": "eventbrite", "refund": true]).status == 200)
                    }
                    resolverConfiguration.idleReadInterval = .milliseconds(300)
                    let catchUp = EventbriteOrderResolver(
                        queue: queue, delivery: EventbriteOrderDelivery(cache: cache, apiURLPolicy: policy),
                        client: client, ledger: stack.ledger, configuration: resolverConfiguration,
                        logger: Logger(label: "resolver"))
                    let second = ServiceGroup(
                        configuration: .init(services: [.init(service: catchUp)], logger: Logger(label: "test")))
                    let secondRun = Task { try await second.run() }
                    let released = try await QueueTesting.runWorkers(queue, handler: handler, timeout: .seconds(30)) {
                        let held = Dictionary(uniqueKeysWithValues: try await ledger.orders(event).map { ($0.orderID, $0.heldQuantity) })
                        return refunded.allSatisfy { held[$0] == 0 }
                    }
                    await second.triggerGracefulShutdown()
                    try await secondRun.value
                    #expect(released, "refunds whose webhooks were lost are not released")
                    #expect(try await stack.ledger.event(event)?.sold == expected.filter { !refunded.contains($0.key) }.values.reduce(0, +))
                }
            }
        }
    }
}
