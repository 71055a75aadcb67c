import Foundation
import PostgresBridge
import Testing

extension DaemonSuite {
    /// The built daemon against the built platform simulator (issue: platforms): a ticket drop whose
    /// webhooks are duplicated and dropped ends with every sale each platform made in the ledger
    /// exactly once — Eventbrite through batched order reads, Luma through webhooks and the guest
    /// sweep, Meetup through polling — and the simulator never answers a 429.
    @Suite struct PlatformDropTests {
        typealias E2E = DaemonEndToEndTests

        /// A drop's event id and its listing ids on the three simulated platforms (unique across runs),
        /// after `traffic-police migrate` on the test's database.
        static func migratedDrop(_ prefix: String, environment: [String: String]) async throws
            -> (event: String, ids: [String: String])
        {
            let suffix = UUID().uuidString.prefix(8).lowercased()
            let ids = [
                "eventbrite": String(Int.random(in: 100_000_000...999_999_999)), "luma": "evt-\(prefix)-\(suffix)",
                "meetup": String(Int.random(in: 100_000_000...999_999_999)),
            ]
            #expect(try await E2E.cli(["migrate"], environment: environment).0 == 0)
            return ("\(prefix)-\(suffix)", ids)
        }

        /// What each platform holds, keyed `platform:order id` (tickets held > 0 only).
        static func truth(_ sim: SimulatorProcess) async throws -> [String: Int] {
            let sales = try #require((try await sim.control("/control/sales").json as? [String: Any])?["sales"] as? [[String: Any]])
            var held: [String: Int] = [:]
            for sale in sales {
                guard let platform = sale["platform"] as? String, let tickets = sale["tickets_held"] as? Int, tickets > 0
                else { continue }
                let detail = sale[platform] as? [String: Any]
                let id: String? =
                    switch platform {
                    case "eventbrite": detail?["order_id"] as? String
                    case "luma": detail?["guest_id"] as? String
                    default: detail?["rsvp_id"] as? String
                    }
                held["\(platform):\(try #require(id))"] = tickets
            }
            return held
        }

        /// The ledger's unreleased orders, keyed `platform:order id`; `holdingOnly` leaves out the
        /// overbooked ones (their tickets are not counted sold).
        static func ledger(_ postgres: PostgresClient, event: String, holdingOnly: Bool = false) async throws
            -> [String: Int]
        {
            var held: [String: Int] = [:]
            for row in try await postgres.query(
                """
                SELECT platform, platform_order_id, quantity FROM orders
                WHERE event_id = $1 AND released_at IS NULL AND quantity > 0 AND ($2 = false OR outcome <> 'overbooked')
                """, [event, holdingOnly])
            {
                held["\(try row.decode("platform", as: String.self)):\(try row.decode("platform_order_id", as: String.self))"] =
                    try row.decode("quantity")
            }
            return held
        }

        @Test(.timeLimit(.minutes(4)))
        func aTicketDropWithDuplicatedAndDroppedWebhooksEndsInTheLedgerOnce() async throws {
            let sim = try SimulatorProcess(seed: 2026)
            defer { sim.stop() }
            try await sim.start()
            let stores = try await PrivateStores.start()
            defer { stores.cleanUp() }
            let db = stores.environment

            let (event, ids) = try await PlatformDropTests.migratedDrop("drop", environment: db)
            let created = try await E2E.cli(
                ["event", "create", event, "--name", "Drop", "--capacity", "300", "--split", "eventbrite=5,luma=3,meetup=2"],
                environment: db)
            try #require(created.0 == 0, "\(created.1)")
            for (platform, id) in ids {
                try #require(try await E2E.cli(["event", "link", event, "--platform", platform, "--platform-event", id], environment: db).0 == 0)
            }
            let shown = try await E2E.cli(["event", "show", event, "--json"], environment: db)
            let platforms = try #require(
                (try JSONSerialization.jsonObject(with: Data(shown.1.utf8)) as? [String: Any])?["platforms"] as? [String: [String: Any]])
            // Until the rebalancer publishes capacities, each simulated platform is told its allocation here.
            for (platform, id) in ids {
                let allocation = try #require(platforms[platform]?["allocation"] as? Int)
                #expect(try await sim.control("/control/events", ["platform": platform, "id": id, "capacity": allocation]).status == 201)
            }

            var environment = sim.daemonEnvironment().merging(db) { $1 }
            environment["TRAFFIC_POLICE_PLATFORMS_LUMA_SWEEP_INTERVAL_MS"] = "3000"
            environment["TRAFFIC_POLICE_PLATFORMS_EVENTBRITE_CATCH_UP_INTERVAL_MS"] = "3000"
            let daemon = try DaemonProcess(overrides: environment)
            defer { daemon.cleanUp() }
            try await daemon.start()

            let configured = try await sim.control("/control/config", [
                "eventbrite": ["webhook": ["unix_socket": daemon.webhookSocket, "path": "/webhooks/eventbrite"]],
                "luma": ["webhook": ["unix_socket": daemon.webhookSocket, "path": "/webhooks/luma"]],
                "webhooks": ["duplicate_probability": 0.2, "drop_probability": 0.1, "delay_ms": ["min": 0, "max": 100]],
            ])
            try #require(configured.status == 200, "\(String(describing: configured.json))")
            let started = try await sim.control("/control/demand/start", [
                "events": ids, "rate_per_second": 150, "skew": ["eventbrite": 60, "luma": 30, "meetup": 10],
                "quantity": ["min": 1, "max": 2], "total": 260, "shape": "drop", "cancel_fraction": 0.05,
            ])
            try #require(started.status == 202, "\(String(describing: started.json))")
            let demandDeadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < demandDeadline,
                (try await sim.control("/control/demand").json as? [String: Any])?["running"] as? Bool == true
            {
                try await Task.sleep(for: .milliseconds(200))
            }
            try await Task.sleep(for: .seconds(6))  // cancellations come 1–5 s after their sale

            let postgres = try E2E.postgres(url: stores.database.url)
            defer { Task { await postgres.shutdown() } }
            var expected: [String: Int] = [:]
            var ledger: [String: Int] = [:]
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                expected = try await Self.truth(sim)
                ledger = try await Self.ledger(postgres, event: event)
                if ledger == expected { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            for platform in ["eventbrite", "luma", "meetup"] {
                #expect(expected.keys.contains { $0.hasPrefix(platform + ":") }, "\(platform) sold nothing")
            }
            let hooks = (try await sim.control("/control/webhooks").json as? [String: Any])?["counts"] as? [String: Int]
            #expect((hooks?["dropped"] ?? 0) > 0 && (hooks?["duplicated"] ?? 0) > 0, "\(String(describing: hooks))")
            let missing = expected.filter { ledger[$0.key] != $0.value }
            let extra = ledger.filter { expected[$0.key] == nil }
            #expect(missing.isEmpty && extra.isEmpty, "missing \(missing), extra \(extra); \(daemon.log().suffix(3000))")
            let sold = try await postgres.query("SELECT sold FROM events WHERE id = $1", [event]).first?.decode("sold", as: Int.self)
            #expect(
                sold == expected.values.reduce(0, +),
                "\(daemon.log().split(separator: "\n").filter { $0.contains("rebalancer") || $0.contains("overbooked") || $0.contains("absorbed") }.suffix(60).joined(separator: "\n"))")
            let limited = (try await sim.control("/control/rate-limited").json as? [String: Any])?["rate_limited"] as? [Any]
            #expect(limited?.isEmpty == true, "the simulator answered 429s: \(String(describing: limited))")
            #expect(await daemon.terminate() == 0, "\(daemon.log().suffix(2000))")
        }
    }
}
