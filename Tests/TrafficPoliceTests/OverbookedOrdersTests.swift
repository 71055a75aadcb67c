import CurlBridge
import Foundation
import Logging
import PlatformClients
import Testing
import TrafficPoliceCore

@testable import TrafficPolice

/// Overbooked orders against `platform-sim` and the real Redis and PostgreSQL: a Luma guest nothing
/// covers goes to the waitlist, an Eventbrite order is flagged, and a repeat changes nothing.
@Suite(.serialized, .timeLimit(.minutes(2))) struct OverbookedOrdersTests {
    struct World {
        let sim: TestSimulator
        let stack: TestStack
        let event: EventID
        let lumaEvent: String
        let eventbriteEvent: String
        let meetupEvent: String
        let handler: OrderDeliveryHandler
        let cache: EventbriteOrderCache
        let metrics: PrometheusExport
        let luma: LumaClient

        static let eventbriteBase = "https://www.eventbriteapi.com/v3"

        /// Reserves 1-ticket orders on `platform` until one is overbooked: nothing is left for it.
        func exhaust(_ platform: TrafficPoliceCore.Platform) async throws {
            for n in 0..<20 {
                let result = try await stack.desk.apply(
                    event: event, platform: platform, orderID: "filler-\(n)", quantity: 1, source: .test)
                if result.outcome == .overbooked { return }
            }
            throw HarnessError("\(platform) never overbooked")
        }

        /// The overbooked actions the ledger recorded for one order (other changes, e.g. the
        /// `duplicate` a repeated Luma registration records as an amendment, left out).
        func changes(_ platform: TrafficPoliceCore.Platform, _ orderID: String) async throws -> [String] {
            try await stack.ledger.orderChanges(event, platform: platform, orderID: orderID).map(\.change)
                .filter { $0.hasPrefix("overbooked_") }
        }

        /// The simulator's API requests for one platform whose path contains `fragment`.
        func requests(_ platform: String, containing fragment: String = "") async throws -> Int {
            let all = try await sim.control("GET", "/control/requests?platform=\(platform)")["requests"] as? [[String: Any]]
            return (all ?? []).filter { fragment.isEmpty || ($0["path"] as? String)?.contains(fragment) == true }.count
        }

        func metricsText() -> String {
            var buffer: [UInt8] = []
            metrics.registry.emit(into: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
    }

    static func withWorld(_ body: (World) async throws -> Void) async throws {
        try await TestSimulator.with { sim in
            try await TestStack.with { stack in
                let lumaKey = "luma-test-\(UUID().uuidString.prefix(8).lowercased())"
                try await sim.control("POST", "/control/credentials", ["luma": [lumaKey]])
                let lumaEvent = "evt-\(UUID().uuidString.prefix(12).lowercased())"
                try await sim.control(
                    "POST", "/control/events", ["platform": "luma", "id": lumaEvent, "capacity": 10, "waitlist": true])
                let event = try TestServers.eventID("overbooked")
                try await stack.desk.create(
                    id: event, name: "Overbooked", policy: try CapacityPolicy(capacity: 3), split: .equal)
                try await stack.desk.link(event, platform: .luma, platformEventID: lumaEvent, ticketClassID: nil)
                let eventbriteEvent = "eb-\(UUID().uuidString.lowercased())"
                try await stack.desk.link(
                    event, platform: .eventbrite, platformEventID: eventbriteEvent, ticketClassID: nil)
                let meetupEvent = "mu-\(UUID().uuidString.lowercased())"
                try await stack.desk.link(event, platform: .meetup, platformEventID: meetupEvent, ticketClassID: nil)
                let curl = CurlClient()
                let gateway = PlatformGateway(
                    endpoints: [
                        .luma: PlatformEndpoint(
                            platform: .luma, credential: PlatformCredential(lumaKey), baseURL: sim.lumaBaseURL),
                        .eventbrite: PlatformEndpoint(
                            platform: .eventbrite, credential: PlatformCredential("eb-token"),
                            baseURL: sim.eventbriteBase),
                    ],
                    throttler: try Throttler(redis: stack.redis, budgets: [:], maxWait: .seconds(30)), curl: curl,
                    logger: Logger(label: "test.gateway"))
                let metrics = PrometheusExport()
                let cache = EventbriteOrderCache(redis: stack.redis)
                let handler = OrderDeliveryHandler(
                    desk: stack.desk,
                    eventbrite: EventbriteOrderDelivery(
                        cache: cache, apiURLPolicy: try EventbriteAPIURLPolicy(baseURL: World.eventbriteBase)),
                    overbooked: OverbookedOrders(ledger: stack.ledger, gateway: gateway, metricsFactory: metrics.factory))
                // Unlinked afterwards: the Luma sweep's timer test sweeps every Luma-linked event in
                // the shared ledger, and this simulator's events are gone once the test ends.
                func cleanUp() async {
                    await curl.shutdown()
                    _ = try? await stack.postgres.query(
                        "UPDATE listings SET platform_event_id = NULL WHERE event_id = $1", [event.rawValue])
                }
                do {
                    let luma = try #require(gateway.luma(.orderLookup))
                    try await body(
                        World(
                            sim: sim, stack: stack, event: event, lumaEvent: lumaEvent, eventbriteEvent: eventbriteEvent,
                            meetupEvent: meetupEvent, handler: handler, cache: cache, metrics: metrics, luma: luma))
                    await cleanUp()
                } catch {
                    await cleanUp()
                    throw error
                }
            }
        }
    }

    @Test func aLumaGuestNothingCoversEndsOnTheWaitlistOnce() async throws {
        try await Self.withWorld { world in
            try await world.exhaust(.luma)
            let snapshot = try await world.stack.desk.snapshot(world.event)
            #expect(snapshot.freeStock == 0)
            let guest = try await world.sim.lumaSale(event: world.lumaEvent, quantity: 1)
            #expect(guest.outcome == "sold")
            let delivery = WebhookDelivery(
                platform: .luma, dedupeKey: "ob-\(guest.guestID)", kind: "guest.registered",
                body: LumaPayload.guest(type: "guest.registered", guest: guest.guestID, event: world.lumaEvent, tickets: 1),
                receivedAtMilliseconds: 1_000)

            #expect(try await world.handler.handle(delivery) == .applied("overbooked × 1"))
            #expect(try await world.luma.guest(eventID: world.lumaEvent, id: guest.guestID).approvalStatus == .waitlist)
            #expect(try await world.changes(.luma, guest.guestID) == ["overbooked_waitlisted"])
            #expect(try await world.requests("luma", containing: "update-status") == 1)
            #expect(
                world.metricsText().contains(
                    #"traffic_police_overbooked_orders_total{platform="luma",action="overbooked_waitlisted"} 1"#))

            // The same delivery again: nothing is called, recorded or counted again.
            _ = try await world.handler.handle(delivery)
            #expect(try await world.changes(.luma, guest.guestID) == ["overbooked_waitlisted"])
            #expect(try await world.requests("luma", containing: "update-status") == 1)
            #expect(
                world.metricsText().contains(
                    #"traffic_police_overbooked_orders_total{platform="luma",action="overbooked_waitlisted"} 1"#))
            #expect(try await world.stack.ledger.order(world.event, platform: .luma, orderID: guest.guestID)?.heldQuantity == 0)
        }
    }

    @Test func anEventbriteOrderNothingCoversIsFlaggedWithoutAPlatformCall() async throws {
        try await Self.withWorld { world in
            try await world.exhaust(.eventbrite)
            let orderID = "9\(Int.random(in: 100_000_000...999_999_999))"
            try await world.cache.store([
                orderID: ResolvedEventbriteOrder(eventID: world.eventbriteEvent, quantity: 2, readAtMilliseconds: 100)
            ])
            let ping = WebhookDelivery(
                platform: .eventbrite, dedupeKey: "placed-\(orderID)", kind: "order.placed",
                body: #"{"api_url":"\#(World.eventbriteBase)/orders/\#(orderID)/","config":{"action":"order.placed"}}"#,
                receivedAtMilliseconds: 90)
            let before = try await world.requests("eventbrite") + world.requests("luma")

            #expect(try await world.handler.handle(ping) == .applied("overbooked × 2"))
            #expect(try await world.changes(.eventbrite, orderID) == ["overbooked_flagged"])
            #expect(try await world.requests("eventbrite") + world.requests("luma") == before)
            #expect(
                world.metricsText().contains(
                    #"traffic_police_overbooked_orders_total{platform="eventbrite",action="overbooked_flagged"} 1"#))

            #expect(try await world.handler.handle(ping) == .applied("overbooked (repeat) × 2"))
            #expect(try await world.changes(.eventbrite, orderID) == ["overbooked_flagged"])
            #expect(
                world.metricsText().contains(
                    #"traffic_police_overbooked_orders_total{platform="eventbrite",action="overbooked_flagged"} 1"#))
            _ = try await world.stack.redis.send(["DEL", "tp:{resolve:eventbrite}:order:\(orderID)"])
        }
    }

    @Test func aMeetupRaiseNothingCoversIsFlaggedAndTheRSVPKeepsItsTicket() async throws {
        try await Self.withWorld { world in
            func job(guests: Int, second: Int) -> WebhookDelivery {
                MeetupRSVPDelivery(
                    meetupEventID: world.meetupEvent,
                    rsvp: MeetupRSVP(id: "rsvp-1", status: "YES", guestsCount: guests, updated: "2026-05-01T10:00:0\(second).000Z")
                ).delivery(receivedAtMilliseconds: 0)
            }
            // Capacity 3 split three ways leaves Meetup no allocation: its first ticket is absorbed.
            #expect(try await world.handler.handle(job(guests: 0, second: 1)) == .applied("absorbed × 1"))
            try await world.exhaust(.meetup)
            let before = try await world.requests("meetup") + world.requests("luma")
            #expect(try await world.handler.handle(job(guests: 4, second: 2)) == .applied("refused 1 → 5: overbooked, holds 1"))
            #expect(try await world.changes(.meetup, "rsvp-1") == ["overbooked_flagged"])
            #expect(try await world.stack.ledger.order(world.event, platform: .meetup, orderID: "rsvp-1")?.heldQuantity == 1)
            #expect(try await world.requests("meetup") + world.requests("luma") == before)
            // The same job again is a repeat: nothing more is recorded or counted.
            _ = try await world.handler.handle(job(guests: 4, second: 2))
            #expect(try await world.changes(.meetup, "rsvp-1") == ["overbooked_flagged"])
            #expect(
                world.metricsText().contains(
                    #"traffic_police_overbooked_orders_total{platform="meetup",action="overbooked_flagged"} 1"#))
        }
    }

    @Test func theLedgerKeepsOneActionPerRevision() async throws {
        try await Self.withWorld { world in
            try await world.exhaust(.meetup)
            let ledger = world.stack.ledger
            #expect(try await ledger.recordOverbookedAction(event: world.event, platform: .meetup, orderID: "filler-missing", action: .flagged) == false)
            let overbooked = try #require(
                try await ledger.orders(world.event).first { $0.outcome == .overbooked && $0.channel == .platform(.meetup) })
            #expect(try await ledger.recordOverbookedAction(event: world.event, platform: .meetup, orderID: overbooked.orderID, action: .flagged))
            #expect(try await ledger.recordOverbookedAction(event: world.event, platform: .meetup, orderID: overbooked.orderID, action: .waitlisted) == false)
            #expect(try await world.changes(.meetup, overbooked.orderID) == ["overbooked_flagged"])
        }
    }
}
