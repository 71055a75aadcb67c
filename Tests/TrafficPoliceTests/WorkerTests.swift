import Foundation
import RedisBridge
import Synchronization
import Testing
import TrafficPolice
import TrafficPoliceCore

/// Luma guest payloads as platforms.md 2.2 shows them (abridged).
enum LumaPayload {
    static func guest(
        type: String, guest: String, event: String, tickets: Int, status: String? = "approved",
        eventField: String = "event"
    ) -> String {
        let ticketList = (0..<tickets).map { #"{"id":"tkt-\#($0)","event_ticket_type_id":"ttype-1","name":"GA","amount":0}"# }
        let statusJSON = status.map { #""\#($0)""# } ?? "null"
        let eventJSON =
            eventField == "event"
            ? #""event":{"id":"\#(event)","calendar_id":"cal-1"}"# : #""event_id":"\#(event)""#
        let extra = type == "ticket.registered" ? #","event_ticket":{"id":"tkt-0"}"# : ""
        return """
            {"type":"\(type)","data":{"id":"\(guest)","user_email":"a@b.c","approval_status":\(statusJSON),\
            "event_tickets":[\(ticketList.joined(separator: ","))],"event_ticket_orders":[],\(eventJSON)\(extra)}}
            """
    }
}

@Suite struct WorkerTests {
    /// An event with capacity 100, linked to a fresh Luma event id.
    private func lumaEvent(_ stack: TestStack) async throws -> (EventID, String) {
        let event = try TestServers.eventID("q")
        try await stack.desk.create(id: event, name: "Queue", policy: try CapacityPolicy(capacity: 100), split: .equal)
        let lumaID = "evt-\(UUID().uuidString.lowercased())"
        try await stack.desk.link(event, platform: .luma, platformEventID: lumaID, ticketClassID: nil)
        return (event, lumaID)
    }

    private func settled(_ queue: DeliveryQueue) -> @Sendable () async throws -> Bool {
        {
            let stats = try await queue.stats()
            return stats.depth == 0 && stats.inFlight == 0 && stats.delayed == 0
        }
    }

    @Test func lumaRegistrationsInAnyOrderAndRepeatedMakeOneOrder() async throws {
        try await TestStack.with { stack in
            let (event, lumaID) = try await lumaEvent(stack)
            try await QueueTesting.withQueue(stack.redis, try QueueTesting.configuration()) { queue in
                var bodies: [String] = []
                for type in ["guest.registered", "ticket.registered", "ticket.registered", "guest.updated"] {
                    bodies.append(LumaPayload.guest(type: type, guest: "gst-ann", event: lumaID, tickets: 2))
                }
                bodies.append(LumaPayload.guest(type: "ticket.registered", guest: "gst-bob", event: lumaID, tickets: 3, status: nil, eventField: "event_id"))
                var generator = SplitMix64(seed: 11)
                let deliveries = (bodies + bodies).shuffled(using: &generator).enumerated().map { index, body in
                    QueueTesting.delivery("wh-\(index)", kind: "guest.registered", body: body)
                }
                for delivery in deliveries { _ = try await queue.enqueue(delivery) }
                #expect(try await QueueTesting.runWorkers(queue, handler: OrderDeliveryHandler(desk: stack.desk), until: settled(queue)))
                let orders = try await stack.ledger.orders(event).filter { $0.channel == .platform(.luma) }
                #expect(orders.count == 2)
                #expect(orders.first { $0.orderID == "gst-ann" }?.heldQuantity == 2)
                #expect(orders.first { $0.orderID == "gst-bob" }?.heldQuantity == 3)
                #expect(try await stack.ledger.event(event)?.sold == 5)
                #expect(try await stack.reservations.counters(event: event)?.sold[.platform(.luma)] == 5)
                #expect(try await queue.stats().deadLetters == 0)
            }
        }
    }

    @Test func lumaTicketChangesAndReapprovalsAreAmendments() async throws {
        try await TestStack.with { stack in
            let (event, lumaID) = try await lumaEvent(stack)
            let handler = OrderDeliveryHandler(desk: stack.desk)
            var received: Int64 = 1_000
            func send(_ type: String, tickets: Int, status: String = "approved") async throws -> JobOutcome {
                received += 1
                let body = LumaPayload.guest(type: type, guest: "gst-amy", event: lumaID, tickets: tickets, status: status)
                return try await handler.handle(
                    WebhookDelivery(platform: .luma, dedupeKey: "d\(received)", kind: type, body: body, receivedAtMilliseconds: received))
            }
            func sold() async throws -> Int? { try await stack.ledger.event(event)?.sold }
            #expect(try await send("guest.registered", tickets: 1) == .applied("accepted × 1"))
            // A ticket added: the held order is raised.
            #expect(try await send("ticket.registered", tickets: 3) == .applied("increased 1 → 3 (accepted)"))
            // A late registration view with fewer tickets lowers nothing.
            #expect(try await send("guest.registered", tickets: 1) == .applied("accepted (repeat) × 3"))
            #expect(try await sold() == 3)
            // guest.updated is the guest's state now: lowered, declined, approved again.
            #expect(try await send("guest.updated", tickets: 2) == .applied("decreased 3 → 2"))
            #expect(try await sold() == 2)
            #expect(try await send("guest.updated", tickets: 2, status: "declined") == .applied("released"))
            #expect(try await send("ticket.registered", tickets: 2) == .applied("accepted (repeat) × 2"))
            #expect(try await sold() == 0)
            #expect(try await send("guest.updated", tickets: 2) == .applied("accepted × 2"))
            #expect(try await sold() == 2)
            #expect(try await stack.reservations.counters(event: event)?.sold[.platform(.luma)] == 2)
        }
    }

    @Test func anEventbritePartialRefundLowersTheOrder() async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("ebpart")
            try await stack.desk.create(id: event, name: "Refunds", policy: try CapacityPolicy(capacity: 100), split: .equal)
            let ebEvent = "eb-\(UUID().uuidString.lowercased())"
            try await stack.desk.link(event, platform: .eventbrite, platformEventID: ebEvent, ticketClassID: nil)
            let base = "https://www.eventbriteapi.com/v3"
            let cache = EventbriteOrderCache(redis: stack.redis)
            let handler = OrderDeliveryHandler(
                desk: stack.desk,
                eventbrite: EventbriteOrderDelivery(cache: cache, apiURLPolicy: try EventbriteAPIURLPolicy(baseURL: base)))
            let orderID = "9\(Int.random(in: 100_000...999_999))"
            func ping(_ action: String, at received: Int64) -> WebhookDelivery {
                WebhookDelivery(
                    platform: .eventbrite, dedupeKey: "\(action)-\(received)", kind: action,
                    body: #"{"api_url":"\#(base)/orders/\#(orderID)/","config":{"action":"\#(action)"}}"#,
                    receivedAtMilliseconds: received)
            }
            func read(_ quantity: Int, at time: Int64) async throws {
                try await cache.store([orderID: ResolvedEventbriteOrder(eventID: ebEvent, quantity: quantity, readAtMilliseconds: time)])
            }
            try await read(4, at: 100)
            #expect(try await handler.handle(ping("order.placed", at: 90)) == .applied("accepted × 4"))
            // One attendee refunded: the order now has 3.
            try await read(3, at: 200)
            #expect(try await handler.handle(ping("order.refunded", at: 150)) == .applied("decreased 4 → 3"))
            #expect(try await handler.handle(ping("order.refunded", at: 150)) == .applied("accepted (repeat) × 3"))
            #expect(try await stack.ledger.event(event)?.sold == 3)
            #expect(try await stack.ledger.order(event, platform: .eventbrite, orderID: orderID)?.heldQuantity == 3)
            // The rest refunded: released.
            try await read(0, at: 300)
            #expect(try await handler.handle(ping("order.refunded", at: 250)) == .applied("no tickets held: released"))
            #expect(try await stack.ledger.event(event)?.sold == 0)
            _ = try await stack.redis.send(["DEL", "tp:{resolve:eventbrite}:order:\(orderID)"])
        }
    }

    @Test func declinedReleasesAndWaitlistHoldsNothing() async throws {
        try await TestStack.with { stack in
            let (event, lumaID) = try await lumaEvent(stack)
            try await QueueTesting.withQueue(stack.redis, try QueueTesting.configuration()) { queue in
                let handler = OrderDeliveryHandler(desk: stack.desk)
                _ = try await queue.enqueue(QueueTesting.delivery("a1", body: LumaPayload.guest(type: "guest.registered", guest: "gst-a", event: lumaID, tickets: 2)))
                // Waitlisted before ever being approved: nothing held, and no tombstone that would block a later approval.
                _ = try await queue.enqueue(QueueTesting.delivery("w1", body: LumaPayload.guest(type: "guest.updated", guest: "gst-w", event: lumaID, tickets: 1, status: "waitlist")))
                #expect(try await QueueTesting.runWorkers(queue, handler: handler, until: settled(queue)))
                #expect(try await stack.ledger.event(event)?.sold == 2)
                #expect(try await stack.ledger.order(event, platform: .luma, orderID: "gst-w") == nil)

                _ = try await queue.enqueue(QueueTesting.delivery("a2", body: LumaPayload.guest(type: "guest.updated", guest: "gst-a", event: lumaID, tickets: 2, status: "declined")))
                _ = try await queue.enqueue(QueueTesting.delivery("w2", body: LumaPayload.guest(type: "guest.updated", guest: "gst-w", event: lumaID, tickets: 1, status: "approved")))
                #expect(try await QueueTesting.runWorkers(queue, handler: handler, until: settled(queue)))
                #expect(try await stack.ledger.order(event, platform: .luma, orderID: "gst-a")?.heldQuantity == 0)
                #expect(try await stack.ledger.order(event, platform: .luma, orderID: "gst-w")?.heldQuantity == 1)

                // An approved guest moved to the waitlist gives its ticket back.
                _ = try await queue.enqueue(QueueTesting.delivery("w3", body: LumaPayload.guest(type: "guest.updated", guest: "gst-w", event: lumaID, tickets: 1, status: "waitlist")))
                #expect(try await QueueTesting.runWorkers(queue, handler: handler, until: settled(queue)))
                #expect(try await stack.ledger.event(event)?.sold == 0)
                #expect(try await stack.reservations.counters(event: event)?.sold[.platform(.luma)] == 0)
            }
        }
    }

    @Test func unknownEventsAreAckedAndMalformedPayloadsDeadLettered() async throws {
        try await TestStack.with { stack in
            let (event, lumaID) = try await lumaEvent(stack)
            try await QueueTesting.withQueue(stack.redis, try QueueTesting.configuration()) { queue in
                let unknown = LumaPayload.guest(type: "guest.registered", guest: "gst-x", event: "evt-nobody-links-this", tickets: 1)
                _ = try await queue.enqueue(QueueTesting.delivery("u1", body: unknown))
                _ = try await queue.enqueue(QueueTesting.delivery("m1", body: "not json at all"))
                _ = try await queue.enqueue(QueueTesting.delivery("m2", body: #"{"type":"guest.updated","data":{"event":{"id":"\#(lumaID)"}}}"#))
                _ = try await queue.enqueue(QueueTesting.delivery("m3", body: LumaPayload.guest(type: "guest.updated", guest: "gst-y", event: lumaID, tickets: 1, status: "mystery")))
                _ = try await queue.enqueue(QueueTesting.delivery("e1", kind: "event.updated", body: #"{"type":"event.updated","data":{"id":"\#(lumaID)"}}"#))
                #expect(try await QueueTesting.runWorkers(queue, handler: OrderDeliveryHandler(desk: stack.desk), until: settled(queue)))
                let stats = try await queue.stats()
                #expect(stats.deadLetters == 3)
                #expect(stats.retries == 0)
                let reasons = try await queue.deadLetters().map(\.error)
                #expect(reasons.contains { $0.contains("not a Luma webhook payload") })
                #expect(reasons.contains { $0.contains("without a guest id") })
                #expect(reasons.contains { $0.contains("mystery") })
                #expect(try await queue.deadLetters().allSatisfy { $0.attempts == 1 })
                #expect(try await stack.ledger.event(event)?.sold == 0)
            }
        }
    }

    @Test func eventbriteDeliveriesStayQueuedAndVisible() async throws {
        try await TestStack.with { stack in
            try await QueueTesting.withQueue(stack.redis, try QueueTesting.configuration()) { queue in
                let body = #"{"api_url":"https://www.eventbriteapi.com/v3/orders/1546689753/","config":{"action":"order.placed"}}"#
                _ = try await queue.enqueue(QueueTesting.delivery("order.placed https://www.eventbriteapi.com/v3/orders/1546689753/", platform: .eventbrite, kind: "order.placed", body: body))
                #expect(try await QueueTesting.runWorkers(queue, handler: OrderDeliveryHandler(desk: stack.desk)) {
                    try await queue.stats().awaitingResolution == 1
                })
                let stats = try await queue.stats()
                #expect(stats == QueueStats(depth: 0, inFlight: 0, delayed: 0, deadLetters: 0, retries: 0, awaitingResolution: 1))
                #expect(try await queue.parkedJobs().first?.delivery.body == body)
                // The stopped workers' consumer held nothing, so it left the group.
                let consumers = try await stack.redis.send(["XINFO", "CONSUMERS", queue.keys.stream, queue.configuration.group])
                #expect(consumers.array?.isEmpty == true)
            }
        }
    }

    @Test func aFailingHandlerIsRetriedThenSucceeds() async throws {
        try await TestServers.withRedis(poolSize: 2) { redis in
            try await QueueTesting.withQueue(redis, try QueueTesting.configuration(maxAttempts: 4)) { queue in
                let handler = FlakyHandler(failures: 2)
                _ = try await queue.enqueue(QueueTesting.delivery("flaky"))
                #expect(try await QueueTesting.runWorkers(queue, handler: handler) { handler.successes == 1 })
                let stats = try await queue.stats()
                #expect(stats.retries == 2 && stats.deadLetters == 0 && stats.depth == 0 && stats.inFlight == 0)
                #expect(handler.calls == 3)
            }
        }
    }

    @Test func gracefulShutdownFinishesTheJobsInFlight() async throws {
        try await TestServers.withRedis(poolSize: 2) { redis in
            try await QueueTesting.withQueue(redis, try QueueTesting.configuration()) { queue in
                let handler = SlowHandler(delay: .milliseconds(400))
                for index in 0..<10 { _ = try await queue.enqueue(QueueTesting.delivery("slow-\(index)")) }
                // Shut down as soon as 3 jobs have started: those 3 finish and are acked, the rest stay queued.
                #expect(try await QueueTesting.runWorkers(queue, handler: handler, concurrency: 3) { handler.started >= 3 })
                // (On a loaded machine a slot may free up before the shutdown is seen: allow a few more.)
                let started = handler.started
                #expect(started >= 3 && started < 10)
                #expect(handler.finished == started)
                let stats = try await queue.stats()
                #expect(stats.inFlight == 0)
                #expect(stats.depth == 10 - started)
            }
        }
    }
}

/// Fails its first `failures` calls, then succeeds.
final class FlakyHandler: DeliveryHandler {
    private let state = Mutex((calls: 0, successes: 0))
    private let failures: Int
    init(failures: Int) { self.failures = failures }
    var calls: Int { state.withLock { $0.calls } }
    var successes: Int { state.withLock { $0.successes } }

    func handle(_ delivery: WebhookDelivery) async throws -> JobOutcome {
        let fail = state.withLock { state -> Bool in
            state.calls += 1
            if state.calls <= failures { return true }
            state.successes += 1
            return false
        }
        if fail { throw DomainError("transient failure") }
        return .applied("ok")
    }
}

/// Takes `delay` per job and counts starts and finishes.
final class SlowHandler: DeliveryHandler {
    private let state = Mutex((started: 0, finished: 0))
    private let delay: Duration
    init(delay: Duration) { self.delay = delay }
    var started: Int { state.withLock { $0.started } }
    var finished: Int { state.withLock { $0.finished } }

    func handle(_ delivery: WebhookDelivery) async throws -> JobOutcome {
        state.withLock { $0.started += 1 }
        try await Task.sleep(for: delay)
        state.withLock { $0.finished += 1 }
        return .applied("slow")
    }
}
