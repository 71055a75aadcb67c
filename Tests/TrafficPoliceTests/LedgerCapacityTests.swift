import Foundation
import PostgresBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The rebalancer's half of the ledger on a real PostgreSQL: transfers recorded once, published
/// capacities, the history of capacity changes, the fence surviving a rebuild, and migration 3.
@Suite struct LedgerCapacityTests {
    static func allocations(_ ledger: Ledger, _ event: EventID) async throws -> [Platform: Int] {
        try await ledger.listings(event).mapValues(\.allocation)
    }

    static func createEvent(_ stack: TestStack, _ prefix: String) async throws -> EventID {
        let event = try TestServers.eventID(prefix)
        try await stack.desk.create(id: event, name: prefix, policy: try CapacityPolicy(capacity: 90), split: .equal)
        return event
    }

    @Test func aTransferMovesAllocationOncePerFenceAndPairOfPlatforms() async throws {
        try await TestStack.with { stack in
            let event = try await Self.createEvent(stack, "xfer-once")
            var expected = try await Self.allocations(stack.ledger, event)
            let total = expected.values.reduce(0, +)

            #expect(try await stack.ledger.recordTransfer(event: event, from: .eventbrite, to: .luma, moved: 5, fence: 1))
            #expect(!(try await stack.ledger.recordTransfer(event: event, from: .eventbrite, to: .luma, moved: 5, fence: 1)))
            // A different count under the same fence and pair is the same transfer: still nothing.
            #expect(!(try await stack.ledger.recordTransfer(event: event, from: .eventbrite, to: .luma, moved: 3, fence: 1)))
            expected[.eventbrite, default: 0] -= 5
            expected[.luma, default: 0] += 5
            #expect(try await Self.allocations(stack.ledger, event) == expected)

            // Another pair under the same fence, and the same pair under the next fence, are new transfers.
            #expect(try await stack.ledger.recordTransfer(event: event, from: .luma, to: .meetup, moved: 2, fence: 1))
            #expect(try await stack.ledger.recordTransfer(event: event, from: .eventbrite, to: .luma, moved: 1, fence: 2))
            expected[.luma, default: 0] += 1 - 2
            expected[.meetup, default: 0] += 2
            expected[.eventbrite, default: 0] -= 1
            #expect(try await Self.allocations(stack.ledger, event) == expected)
            #expect(try await Self.allocations(stack.ledger, event).values.reduce(0, +) == total)
            #expect(try await stack.ledger.fence(event) == 2)

            // Nothing moved is nothing recorded.
            #expect(!(try await stack.ledger.recordTransfer(event: event, from: .meetup, to: .luma, moved: 0, fence: 3)))
            let changes = try await stack.ledger.capacityChanges(event)
            #expect(changes.map(\.kind) == [.transfer, .transfer, .transfer])
            #expect(changes.map(\.tickets) == [5, 2, 1])
            #expect(changes.map(\.fromPlatform) == [.eventbrite, .luma, .eventbrite])
            #expect(changes.map(\.platform) == [.luma, .meetup, .luma])
            #expect(changes.map(\.fence) == [1, 1, 2])
            #expect(try await stack.ledger.fence(event) == 2)
        }
    }

    @Test func aTransferNeverMakesAnAllocationNegative() async throws {
        try await TestStack.with { stack in
            let event = try await Self.createEvent(stack, "xfer-negative")
            let before = try await Self.allocations(stack.ledger, event)
            let held = try #require(before[.meetup])
            do {
                _ = try await stack.ledger.recordTransfer(event: event, from: .meetup, to: .luma, moved: held + 1, fence: 4)
                Issue.record("a transfer of more than the donor's allocation was recorded")
            } catch LedgerError.transferExceedsAllocation(let id, let donor, let moved, let allocation) {
                #expect(id == event && donor == .meetup && moved == held + 1 && allocation == held)
            }
            #expect(try await Self.allocations(stack.ledger, event) == before)
            #expect(try await stack.ledger.capacityChanges(event).isEmpty)
            #expect(try await stack.ledger.fence(event) == 0)
            // Nothing of the refused transfer stayed: the same fence and pair still record a valid one.
            #expect(try await stack.ledger.recordTransfer(event: event, from: .meetup, to: .luma, moved: held, fence: 4))
            #expect(try await Self.allocations(stack.ledger, event)[.meetup] == 0)

            await #expect(throws: LedgerError.self) {
                try await stack.ledger.recordTransfer(
                    event: try TestServers.eventID("missing"), from: .luma, to: .meetup, moved: 1, fence: 1)
            }
            await #expect(throws: DomainError.self) {
                try await stack.ledger.recordTransfer(event: event, from: .luma, to: .luma, moved: 1, fence: 5)
            }
        }
    }

    @Test func publishedCapacitiesAndEventsAreAppendedNewestLast() async throws {
        try await TestStack.with { stack in
            let event = try await Self.createEvent(stack, "published")
            try await stack.ledger.recordPublished(
                event: event, platform: .luma, capacity: 17, sold: 4, kind: .shrink, fence: 1, confirmed: true)
            #expect(try await stack.ledger.listings(event)[.luma]?.published == 17)
            try await stack.ledger.recordPublished(
                event: event, platform: .luma, capacity: 21, sold: 5, kind: .grow, fence: 2, confirmed: false,
                detail: "not read back")
            try await stack.ledger.recordCapacityEvent(
                event: event, platform: .meetup, kind: .publishFailed, fence: 2, detail: "HTTP 503")
            try await stack.ledger.recordCapacityEvent(event: event, platform: nil, kind: .redAlert, fence: 3, detail: "soft cap")
            try await stack.ledger.recordPublished(
                event: event, platform: .eventbrite, capacity: 9, sold: 9, kind: .close, fence: 3, confirmed: true)

            let listings = try await stack.ledger.listings(event)
            #expect(listings[.luma]?.published == 21)
            #expect(listings[.eventbrite]?.published == 9)
            #expect(listings[.meetup]?.published == 0)

            let changes = try await stack.ledger.capacityChanges(event)
            #expect(changes.map(\.kind) == [.shrink, .grow, .publishFailed, .redAlert, .close])
            #expect(changes.map(\.platform) == [.luma, .luma, .meetup, nil, .eventbrite])
            #expect(changes.map(\.capacity) == [17, 21, nil, nil, 9])
            #expect(changes.map(\.sold) == [4, 5, nil, nil, 9])
            #expect(changes.map(\.confirmed) == [true, false, false, false, true])
            #expect(changes.map(\.detail) == ["", "not read back", "HTTP 503", "soft cap", ""])
            #expect(changes.map(\.id) == changes.map(\.id).sorted())
            #expect(changes.allSatisfy { abs($0.createdAt.timeIntervalSinceNow) < 300 })
            // A limit keeps the newest rows, still newest last.
            #expect(try await stack.ledger.capacityChanges(event, limit: 2).map(\.kind) == [.redAlert, .close])
            // The fence is recorded by grants and transfers, not by published capacities.
            #expect(try await stack.ledger.fence(event) == 0)

            await #expect(throws: DomainError.self) {
                try await stack.ledger.recordPublished(
                    event: event, platform: .luma, capacity: 1, sold: 0, kind: .transfer, fence: 4, confirmed: true)
            }
            await #expect(throws: DomainError.self) {
                try await stack.ledger.recordCapacityEvent(event: event, platform: .luma, kind: .grow, fence: 4, detail: "")
            }
            await #expect(throws: LedgerError.self) {
                try await stack.ledger.recordCapacityEvent(
                    event: try TestServers.eventID("missing"), platform: nil, kind: .refused, fence: 1, detail: "")
            }
            #expect(try await stack.ledger.capacityChanges(event).count == 5)
        }
    }

    @Test func theFenceNeverGoesBackAndSurvivesARebuildOfRedis() async throws {
        try await TestStack.with { stack in
            let event = try await Self.createEvent(stack, "fence")
            var granted = 0
            for _ in 0..<3 { granted = try await stack.reservations.grantFence(event: event) }
            try await stack.ledger.recordFence(granted, event: event)
            try await stack.ledger.recordFence(1, event: event)
            #expect(try await stack.ledger.fence(event) == granted)
            await #expect(throws: LedgerError.self) {
                try await stack.ledger.recordFence(1, event: try TestServers.eventID("missing"))
            }

            // Redis loses the event; the rebuild from the ledger carries the fence.
            _ = try await stack.redis.send(["DEL"] + EventKeys(event).all)
            #expect(try await stack.reservations.fence(event: event) == nil)
            try await stack.desk.rebuild(event)
            #expect(try await stack.reservations.fence(event: event) == granted)
            #expect(try await stack.reservations.grantFence(event: event) > granted)
        }
    }

    // MARK: - Migration 3

    /// Runs `body` with a ledger on a database of its own, dropped afterwards.
    static func withFreshDatabase(_ body: (Ledger) async throws -> Void) async throws {
        let serverURL = try TestServers.postgresURL()
        let name = "tp_ledger_\(UUID().uuidString.prefix(8).lowercased())"
        let (base, query) = serverURL.firstIndex(of: "?").map { (serverURL[..<$0], serverURL[$0...]) } ?? (serverURL[...], "")
        let slash = try #require(base.lastIndex(of: "/"), "TRAFFIC_POLICE_POSTGRES_URL must be a postgresql:// URL")
        let admin = PostgresClient(configuration: PostgresConfiguration(connectionString: serverURL, poolSize: 1))
        _ = try await admin.query("CREATE DATABASE \(name)")
        let postgres = PostgresClient(
            configuration: PostgresConfiguration(connectionString: String(base[...slash]) + name + query, poolSize: 2))
        var failure: (any Error)?
        do { try await body(Ledger(postgres: postgres)) } catch { failure = error }
        await postgres.shutdown()
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.shutdown()
        if let failure { throw failure }
    }

    static func checkVersion3(_ ledger: Ledger, _ event: EventID) async throws {
        #expect(try await ledger.fence(event) == 0)
        #expect(try await ledger.recordTransfer(event: event, from: .luma, to: .meetup, moved: 1, fence: 1))
        #expect(!(try await ledger.recordTransfer(event: event, from: .luma, to: .meetup, moved: 1, fence: 1)))
        #expect(try await ledger.capacityChanges(event).map(\.kind) == [.transfer])
        #expect(try await PostgresMigrator(client: ledger.postgres).appliedVersions().prefix(3) == [1, 2, 3])
    }

    @Test func migration3AppliesOnAFreshDatabase() async throws {
        try await Self.withFreshDatabase { ledger in
            #expect(try await ledger.migrate() == LedgerMigrations.all.map(\.version))
            #expect(try await ledger.migrate() == [])
            let event = try TestServers.eventID("fresh")
            let policy = try CapacityPolicy(capacity: 30)
            try await ledger.createEvent(EventRecord(id: event, name: "Fresh", policy: policy), allocations: [.luma: 5])
            try await Self.checkVersion3(ledger, event)
        }
    }

    @Test func migration3AppliesOnALedgerAtVersion2() async throws {
        try await Self.withFreshDatabase { ledger in
            let migrator = PostgresMigrator(client: ledger.postgres)
            #expect(try await migrator.apply(LedgerMigrations.all.filter { $0.version <= 2 }) == [1, 2])
            let event = try TestServers.eventID("v2")
            let policy = try CapacityPolicy(capacity: 30)
            try await ledger.createEvent(EventRecord(id: event, name: "Old", policy: policy), allocations: [.luma: 5])
            #expect(try await ledger.migrate() == LedgerMigrations.all.map(\.version).filter { $0 >= 3 })
            #expect(try await ledger.listings(event)[.luma]?.allocation == 5)
            try await Self.checkVersion3(ledger, event)
        }
    }
}
