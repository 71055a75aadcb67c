import CurlBridge
import Foundation
import Logging
import PlatformClients
import RedisBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The capacity publisher against the in-process simulator: what it publishes is what the platform
/// then enforces (a sale beyond it is refused), reads and confirmations, closing and reopening.
@Suite(.timeLimit(.minutes(2))) struct CapacityPublisherTests {
    @Test func eventbriteTicketClassPublishShrinkCloseAndReopen() async throws {
        try await PublisherFixture.with { fixture in
            let event = try await fixture.event(.eventbrite, capacity: 100, ticketClass: "tc-\(fixture.tag)")
            let listing = ListingReference(platform: .eventbrite, platformEventID: event, ticketClassID: "tc-\(fixture.tag)")
            try await fixture.publisher.publish(20, on: listing)
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: 20, sold: 0, closed: false))
            #expect(try await fixture.sell(.eventbrite, event, 3) == "sold")

            try await fixture.publisher.publish(5, on: listing)
            #expect(try await fixture.publisher.confirm(atMost: 5, on: listing))
            #expect(try await fixture.sell(.eventbrite, event, 3) == "refused")

            // Below what is sold: Eventbrite refuses, and the error says how many are sold.
            await #expect {
                try await fixture.publisher.publish(2, on: listing)
            } throws: { error in
                guard case .tooSmall(let sold, _)? = error as? CapacityPublishError else { return false }
                return sold == 3
            }

            try await fixture.publisher.close(listing, sold: 3)
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: 3, sold: 3, closed: true))
            #expect(try await fixture.sell(.eventbrite, event, 1) == "refused")

            try await fixture.publisher.publish(8, on: listing)
            #expect(try await fixture.sell(.eventbrite, event, 1) == "sold")
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: 8, sold: 4, closed: false))
            #expect(try await !fixture.publisher.moveToWaitlist(orderID: "1", on: listing))
        }
    }

    @Test func eventbriteTierPublishAndConfirmThroughTheReadLag() async throws {
        try await PublisherFixture.with { fixture in
            let event = try await fixture.event(.eventbrite, capacity: 100)
            let listing = ListingReference(platform: .eventbrite, platformEventID: event)
            try await fixture.publisher.publish(6, on: listing)
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: 6, sold: 0, closed: false))
            #expect(try await fixture.sell(.eventbrite, event, 2) == "sold")

            // Reads lag writes by 600 ms: one read right away still shows 6; reading on confirms 4.
            try await fixture.sim.control("POST", "/control/config", ["eventbrite": ["read_lag_ms": 600]])
            try await fixture.publisher.publish(4, on: listing)
            #expect(try await !fixture.publisher.confirm(atMost: 4, on: listing, attempts: 1))
            #expect(try await fixture.publisher.confirm(atMost: 4, on: listing, attempts: 20, interval: .milliseconds(100)))
            try await fixture.sim.control("POST", "/control/config", ["eventbrite": ["read_lag_ms": 0]])

            await #expect {
                try await fixture.publisher.publish(1, on: listing)
            } throws: { error in
                guard case .tooSmall(let sold, let detail)? = error as? CapacityPublishError else { return false }
                return sold == 2 && detail.contains("CAPACITY_TOTAL_TOO_SMALL")
            }
            try await fixture.publisher.close(listing, sold: 2)
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: 2, sold: 2, closed: true))
            #expect(try await fixture.sell(.eventbrite, event, 1) == "refused")
        }
    }

    @Test func lumaPublishCloseReopenAndWaitlist() async throws {
        try await PublisherFixture.with { fixture in
            let event = try await fixture.event(.luma, capacity: 100)
            let listing = ListingReference(platform: .luma, platformEventID: event)
            try await fixture.publisher.publish(3, on: listing)
            #expect(try await fixture.changes(event).last?["new"] as? Int == 3)
            // Luma's events/get reports no max_capacity: the read says so rather than "unlimited".
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: nil, sold: 0, closed: false, capacityKnown: false))
            let first = try await fixture.sim.lumaSale(event: event, quantity: 2)
            #expect(first.outcome == "sold")
            #expect(try await fixture.sell(.luma, event, 2) == "waitlisted")
            #expect(try await fixture.publisher.read(listing).sold == 2)
            #expect(try await fixture.publisher.confirm(atMost: 3, on: listing))

            try await fixture.publisher.close(listing, sold: 2)
            #expect(try await fixture.changes(event).last?["new"] as? Int == 2)
            #expect(try await fixture.sell(.luma, event, 1) == "waitlisted")
            try await fixture.publisher.publish(5, on: listing)
            #expect(try await fixture.sell(.luma, event, 1) == "sold")

            #expect(try await fixture.publisher.moveToWaitlist(orderID: first.guestID, on: listing))
            let client = try #require(fixture.gateway.luma(.orderLookup))
            #expect(try await client.guest(eventID: event, id: first.guestID).approvalStatus == .waitlist)
            #expect(try await fixture.publisher.read(listing).sold == 1)
        }
    }

    @Test func meetupPublishCloseAndReopenNeverPublishingZero() async throws {
        try await PublisherFixture.with { fixture in
            let event = try await fixture.event(.meetup, capacity: 100)
            let listing = ListingReference(platform: .meetup, platformEventID: event)
            try await fixture.publisher.publish(4, on: listing)
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: 4, sold: 0, closed: false))
            #expect(try await fixture.sell(.meetup, event, 3) == "sold")
            try await fixture.publisher.publish(3, on: listing)
            #expect(try await fixture.publisher.confirm(atMost: 3, on: listing))
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: 3, sold: 3, closed: true))

            try await fixture.publisher.publish(5, on: listing)
            try await fixture.publisher.close(listing, sold: 3)
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: 5, sold: 3, closed: true))
            #expect(try await fixture.sell(.meetup, event, 1) == "refused")

            try await fixture.publisher.publish(6, on: listing)
            #expect(try await fixture.publisher.read(listing) == PlatformCapacity(capacity: 6, sold: 3, closed: false))
            #expect(try await fixture.sell(.meetup, event, 1) == "sold")

            // 0 is "no limit" on Meetup: asked for 0, the publisher closes instead.
            try await fixture.publisher.publish(0, on: listing)
            #expect(try await fixture.publisher.read(listing).closed)
            #expect(try await fixture.sell(.meetup, event, 1) == "refused")
            #expect(try await fixture.changes(event).allSatisfy { $0["new"] as? Int != 0 || $0["call"] as? String != "mutation editEvent" })
            #expect(try await !fixture.publisher.moveToWaitlist(orderID: "x", on: listing))
        }
    }

    @Test func aPlatformWithoutCredentialsIsNotConfigured() async throws {
        try await PublisherFixture.with(platforms: [.luma]) { fixture in
            for platform in [Platform.eventbrite, .meetup] {
                let listing = ListingReference(platform: platform, platformEventID: "1")
                await #expect {
                    try await fixture.publisher.publish(5, on: listing)
                } throws: { error in
                    guard case .notConfigured(let missing)? = error as? CapacityPublishError else { return false }
                    return missing == platform
                }
                await #expect(throws: CapacityPublishError.self) { try await fixture.publisher.read(listing) }
            }
        }
    }

    @Test func anUnknownListingIsRefused() async throws {
        try await PublisherFixture.with { fixture in
            for platform in Platform.allCases {
                let listing = ListingReference(platform: platform, platformEventID: "no-such-\(fixture.tag)")
                await #expect {
                    try await fixture.publisher.publish(5, on: listing)
                } throws: { error in
                    guard case .refused? = error as? CapacityPublishError else { return false }
                    return true
                }
            }
        }
    }
}

/// A simulator, fresh credentials registered with it (their own throttle accounts) and a publisher
/// over a gateway to it.
struct PublisherFixture {
    let sim: TestSimulator
    let gateway: PlatformGateway
    let publisher: CapacityPublisher
    let tag: String

    static func with(
        platforms: Set<Platform> = Set(Platform.allCases), _ body: (PublisherFixture) async throws -> Void
    ) async throws {
        try await TestSimulator.with { sim in
            try await TestServers.withRedis(poolSize: 2) { redis in
                let tag = String(UInt64.random(in: 1...UInt64.max), radix: 36)
                let tokens: [Platform: String] = [.eventbrite: "eb-\(tag)", .luma: "luma-\(tag)", .meetup: "mu-\(tag)"]
                var credentials: [String: Any] = [:]
                for (platform, token) in tokens { credentials[platform.rawValue] = [token] }
                try await sim.control("POST", "/control/credentials", credentials)
                let bases: [Platform: String] = [.eventbrite: sim.eventbriteBase, .luma: sim.lumaBase, .meetup: sim.meetupBase]
                var endpoints: [Platform: PlatformEndpoint] = [:]
                var budgets: [Platform: Budget] = [:]
                for platform in platforms {
                    guard let token = tokens[platform], let base = bases[platform] else { continue }
                    endpoints[platform] = PlatformEndpoint(platform: platform, credential: PlatformCredential(token), baseURL: base)
                    budgets[platform] = try Budget.configured(for: platform, limit: 1_000_000, marginPercent: 90)
                }
                let curl = CurlClient()
                defer { Task { await curl.shutdown() } }
                let gateway = PlatformGateway(
                    endpoints: endpoints, throttler: try Throttler(redis: redis, budgets: budgets), curl: curl,
                    logger: Logger(label: "test.publisher"))
                try await body(PublisherFixture(sim: sim, gateway: gateway, publisher: CapacityPublisher(gateway: gateway), tag: tag))
            }
        }
    }

    /// Creates an event on `platform` (Eventbrite: numeric id, capacity tier `capacity`).
    func event(_ platform: Platform, capacity: Int, ticketClass: String? = nil) async throws -> String {
        let id: String
        switch platform {
        case .eventbrite: id = String(Int.random(in: 100_000_000...999_999_999))
        case .luma: id = "evt-\(tag)"
        case .meetup: id = "3\(Int.random(in: 10_000_000...99_999_999))"
        }
        var body: [String: Any] = ["platform": platform.rawValue, "id": id, "capacity": capacity]
        if let ticketClass { body["ticket_class_id"] = ticketClass }
        try #require(try await sim.answer("POST", "/control/events", body).status == 201)
        return id
    }

    /// Sells `quantity` through the platform's own rule: `sold`, `waitlisted` or `refused`.
    func sell(_ platform: Platform, _ event: String, _ quantity: Int) async throws -> String {
        let answer = try await sim.control("POST", "/control/sales", ["platform": platform.rawValue, "event_id": event, "quantity": quantity])
        return answer["outcome"] as? String ?? "?"
    }

    /// The capacity changes the simulator recorded for `event`.
    func changes(_ event: String) async throws -> [[String: Any]] {
        let all = try await sim.control("GET", "/control/capacity-changes")["capacity_changes"] as? [[String: Any]] ?? []
        return all.filter { $0["event_id"] as? String == event }
    }
}
