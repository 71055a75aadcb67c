import Foundation
import PostgresBridge
import Testing

extension DaemonSuite {
    /// `traffic-police reconcile` as the nightly timer runs it: the built binary against the built
    /// platform simulator, its own database (so every event it finds is this test's), platform
    /// credentials and base URLs from the environment. Sales no webhook or poll brought in, and
    /// cancellations, are reported by a dry run (exit 3), fixed by a real run (exit 0), not found
    /// again by a third (exit 0); a platform that cannot be reached exits 69.
    @Suite struct ReconcileCommandTests {
        typealias E2E = DaemonEndToEndTests
        typealias Drop = PlatformDropTests

        @Test(.timeLimit(.minutes(3)))
        func theNightlyRunReportsFixesAndThenAgrees() async throws {
            let sim = try SimulatorProcess(seed: 33)
            defer { sim.stop() }
            try await sim.start()
            let database = try await TestDatabase.create()
            let db = ["TRAFFIC_POLICE_POSTGRES_URL": database.url]
            defer { Task { await database.drop() } }
            let environment = sim.daemonEnvironment().merging(db) { $1 }

            let (event, ids) = try await Drop.migratedDrop("nightly", environment: db)
            let created = try await E2E.cli(["event", "create", event, "--name", "Nightly", "--capacity", "300"], environment: db)
            try #require(created.0 == 0, "\(created.1)")
            for (platform, id) in ids {
                try #require(try await sim.control("/control/events", ["platform": platform, "id": id, "capacity": 50]).status == 201)
                try #require(try await E2E.cli(["event", "link", event, "--platform", platform, "--platform-event", id], environment: db).0 == 0)
            }
            // Two sales per platform that nothing delivered (no daemon runs); one of each cancelled.
            for (platform, id) in ids {
                for quantity in [2, 1] {
                    let sale = try await sim.control("/control/sales", ["platform": platform, "event_id": id, "quantity": quantity])
                    try #require(sale.status == 201, "\(String(describing: sale.json))")
                    if quantity == 1 {
                        let saleID = try #require(((sale.json as? [String: Any])?["sale"] as? [String: Any])?["id"] as? String)
                        #expect(try await sim.control("/control/cancellations", ["sale_id": saleID]).status == 200)
                    }
                }
            }
            let postgres = try E2E.postgres(url: database.url)
            defer { Task { await postgres.shutdown() } }
            let truth = try await Drop.truth(sim)
            #expect(truth.count == 3 && truth.values.allSatisfy { $0 == 2 }, "\(truth)")

            let dry = try await E2E.cli(["reconcile", "--dry-run"], environment: environment)
            #expect(dry.0 == 3, "\(dry.1)")
            #expect(dry.1.contains("\(event): drift") && dry.1.contains("dry run: nothing changed"), "\(dry.1)")
            #expect(try await Drop.ledger(postgres, event: event).isEmpty)

            let real = try await E2E.cli(["reconcile"], environment: environment)
            #expect(real.0 == 0, "\(real.1)")
            #expect(real.1.contains("\(event): fixed") && real.1.contains("the ledger agrees with the platforms"), "\(real.1)")
            #expect(try await Drop.ledger(postgres, event: event) == truth)

            let again = try await E2E.cli(["reconcile", "--event", event], environment: environment)
            #expect(again.0 == 0, "\(again.1)")
            #expect(again.1.contains("\(event): agrees"), "\(again.1)")

            var down = environment
            down["TRAFFIC_POLICE_PLATFORMS_MEETUP_BASE_URL"] = "http://127.0.0.1:9/gql-ext"
            let unreachable = try await E2E.cli(["reconcile", "--event", event, "--dry-run"], environment: down)
            #expect(unreachable.0 == 69, "\(unreachable.1)")
            #expect(unreachable.1.contains("meetup \(ids["meetup"] ?? "?"): unreadable"), "\(unreachable.1)")

            let outcomes = try await postgres.query(
                "SELECT outcome, dry_run, fixed FROM reconciliations WHERE event_id = $1 ORDER BY id", [event]
            ).map { "\(try $0.decode("outcome", as: String.self)) \(try $0.decode("dry_run", as: Bool.self)) \(try $0.decode("fixed", as: Int.self))" }
            #expect(outcomes == ["drift true 0", "fixed false 3", "agrees false 0", "unreadable true 0"])
        }
    }
}
