import Foundation
import PostgresBridge
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    /// G5 and G6 with the built daemon, its own Redis and the built platform simulator: a frozen Redis
    /// closes every listing (waitlist only) and refuses the box office, and the listings reopen at their
    /// allocations after recovery; a Redis restarted empty is noticed, rebuilt from the ledger and
    /// reconciled before sales reopen.
    @Suite struct FailsafeClosingTests {
        typealias E2E = DaemonEndToEndTests
        typealias Drop = RebalancingDropTests

        /// A linked event of `capacity` on the simulator and a daemon on `redis`, its listings published.
        struct Setup {
            var sim: SimulatorProcess
            var daemon: DaemonProcess
            var database: TestDatabase
            var event: String
            var ids: [String: String]
            var environment: [String: String]

            func tearDown() {
                sim.stop()
                daemon.cleanUp()
                Task { await database.drop() }
            }
        }

        /// Only a reconciliation may find orders whose webhooks are lost: the Luma sweep and
        /// Eventbrite's catch-up read are put off.
        static let reconciliationOnly = [
            "TRAFFIC_POLICE_PLATFORMS_LUMA_SWEEP_INTERVAL_MS": "600000",
            "TRAFFIC_POLICE_PLATFORMS_EVENTBRITE_CATCH_UP_INTERVAL_MS": "600000",
        ]

        /// Ten buyers on Eventbrite and Luma whose webhooks are all lost; returns once the demand ran.
        static func sellWithLostWebhooks(_ setup: Setup) async throws {
            let dropped = try await setup.sim.control("/control/config", [
                "webhooks": ["duplicate_probability": 0.0, "drop_probability": 1.0, "delay_ms": ["min": 0, "max": 0]]
            ])
            try #require(dropped.status == 200)
            let more = try await setup.sim.control("/control/demand/start", [
                "events": setup.ids, "rate_per_second": 40, "skew": ["eventbrite": 50, "luma": 50, "meetup": 0],
                "quantity": ["min": 1, "max": 2], "total": 10, "shape": "steady", "cancel_fraction": 0.0,
            ])
            try #require(more.status == 202, "\(String(describing: more.json))")
            while (try await setup.sim.control("/control/demand").json as? [String: Any])?["running"] as? Bool == true {
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        static func setUp(
            _ prefix: String, redis: PrivateRedis, seed: UInt64, extra: [String: String] = [:]
        ) async throws -> Setup {
            let sim = try SimulatorProcess(seed: seed)
            try await sim.start()
            let database = try await TestDatabase.create()
            let db = ["TRAFFIC_POLICE_POSTGRES_URL": database.url, "TRAFFIC_POLICE_REDIS_URL": "redis://127.0.0.1:\(redis.port)"]
            let (event, ids) = try await PlatformDropTests.migratedDrop(prefix, environment: db)
            let created = try await E2E.cli(["event", "create", event, "--name", "Fail-safe", "--capacity", "300"], environment: db)
            try #require(created.0 == 0, "\(created.1)")
            for (platform, id) in ids {
                #expect(try await sim.control("/control/events", ["platform": platform, "id": id, "capacity": 100]).status == 201)
                try #require(try await E2E.cli(["event", "link", event, "--platform", platform, "--platform-event", id], environment: db).0 == 0)
            }
            var environment = sim.daemonEnvironment().merging(db) { $1 }
            environment["TRAFFIC_POLICE_REBALANCER_INTERVAL_MS"] = "1000"
            environment.merge(extra) { $1 }
            let daemon = try DaemonProcess(overrides: environment)
            try await daemon.start()
            let configured = try await sim.control("/control/config", [
                "eventbrite": ["webhook": ["unix_socket": daemon.webhookSocket, "path": "/webhooks/eventbrite"]],
                "luma": ["webhook": ["unix_socket": daemon.webhookSocket, "path": "/webhooks/luma"]],
                "webhooks": ["duplicate_probability": 0.0, "drop_probability": 0.0, "delay_ms": ["min": 50, "max": 300]],
            ])
            try #require(configured.status == 200)
            return Setup(sim: sim, daemon: daemon, database: database, event: event, ids: ids, environment: db)
        }

        /// Waits until every platform's last capacity change satisfies `condition` (after `since`).
        static func waitForListings(
            _ setup: Setup, since: Date = .distantPast, within limit: Duration,
            _ condition: (Drop.Change) -> Bool
        ) async throws -> [String: Drop.Change] {
            let deadline = ContinuousClock.now + limit
            var last: [String: Drop.Change] = [:]
            while ContinuousClock.now < deadline {
                let changes = (try await setup.sim.control("/control/capacity-changes").json as? [String: Any])?["capacity_changes"]
                    as? [[String: Any]] ?? []
                last = [:]
                for change in try Drop.timeline(changes, ids: setup.ids) where change.time > since { last[change.platform] = change }
                if last.count == setup.ids.count, last.values.allSatisfy(condition) { return last }
                try await Task.sleep(for: .milliseconds(50))
            }
            return last
        }

        /// The ELAPSED_MS of the daemon's "every listing told to stop selling" line, once it is logged.
        static func closedElapsed(_ daemon: DaemonProcess, within limit: Duration) async throws -> Int? {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if let line = daemon.log().split(separator: "\n").last(where: { $0.contains("every listing told to stop selling") }),
                    let field = line.split(separator: " ").first(where: { $0.hasPrefix("ELAPSED_MS=") })
                {
                    return Int(field.dropFirst("ELAPSED_MS=".count))
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }

        @Test(.timeLimit(.minutes(3)))
        func aFrozenRedisClosesEveryListingAndRecoveryReopensThem() async throws {
            let redis = try await PrivateRedis.start()
            defer { redis.cleanUp() }
            let setup = try await Self.setUp("frozen", redis: redis, seed: 808)
            defer { setup.tearDown() }
            // C 300, S 30: 270 split equally.
            let published = try await Self.waitForListings(setup, within: .seconds(30)) { $0.capacity == 90 }
            try #require(published.values.allSatisfy { $0.capacity == 90 }, "allocations published: \(published)")

            let frozenAt = Date()
            redis.signal(SIGSTOP)
            let closed = try await Self.waitForListings(setup, since: frozenAt, within: .seconds(20)) { $0.capacity <= $0.sold }
            #expect(closed.count == 3 && closed.values.allSatisfy { $0.capacity <= $0.sold }, "every listing closed: \(closed)")
            let elapsed = try await Self.closedElapsed(setup.daemon, within: .seconds(10))
            #expect(elapsed != nil, "\(setup.daemon.log().suffix(3000))")
            let lastClose = closed.values.map(\.time).max() ?? frozenAt
            print("fail-safe: every listing closed \(String(format: "%.0f", lastClose.timeIntervalSince(frozenAt) * 1000)) ms after SIGSTOP (daemon: \(elapsed ?? -1) ms after the trip)")

            let sale = try await UnixHTTPClient.post(
                socketPath: setup.daemon.adminSocket, path: "/api/events/\(setup.event)/sales",
                body: #"{"quantity": 1, "approve": true, "approved_by": "Ada"}"#)
            #expect(sale.status == 423, "no box-office sale in fail-safe: \(sale)")

            let thawedAt = Date()
            redis.signal(SIGCONT)
            let reopened = try await Self.waitForListings(setup, since: thawedAt, within: .seconds(60)) { $0.capacity == 90 }
            #expect(reopened.count == 3 && reopened.values.allSatisfy { $0.capacity == 90 }, "reopened at the allocations: \(reopened); \(setup.daemon.log().suffix(3000))")
            let log = setup.daemon.log()
            #expect(log.contains("fail-safe left"))
            #expect(log.contains("recovery steps done"))
            #expect(!log.contains("Redis lost its data"), "a frozen Redis loses nothing")
            #expect(await setup.daemon.terminate() == 0, "\(setup.daemon.log().suffix(2000))")
        }

        @Test(.timeLimit(.minutes(3)))
        func theOperatorsSwitchClosesEveryListingUntilItIsTurnedOff() async throws {
            let redis = try await PrivateRedis.start()
            defer { redis.cleanUp() }
            let setup = try await Self.setUp("switch", redis: redis, seed: 810)
            defer { setup.tearDown() }
            _ = try await Self.waitForListings(setup, within: .seconds(30)) { $0.capacity == 90 }
            let onAt = Date()
            let on = try await E2E.cli(["failsafe", "on", "--by", "Ada", "--reason", "test"], environment: setup.environment)
            #expect(on.0 == 0, "\(on.1)")
            // At once, before the daemon's next look at the switch (every second): the box office reads it too.
            let atOnce = try await UnixHTTPClient.post(
                socketPath: setup.daemon.adminSocket, path: "/api/events/\(setup.event)/sales",
                body: #"{"quantity": 1, "approve": true, "approved_by": "Ada"}"#)
            #expect(atOnce.status == 423, "no box-office sale once the switch is on: \(atOnce)")
            let closed = try await Self.waitForListings(setup, since: onAt, within: .seconds(20)) { $0.capacity <= $0.sold }
            #expect(closed.count == 3 && closed.values.allSatisfy { $0.capacity <= $0.sold }, "every listing closed: \(closed)")
            let sale = try await UnixHTTPClient.post(
                socketPath: setup.daemon.adminSocket, path: "/api/events/\(setup.event)/sales",
                body: #"{"quantity": 1, "approve": true, "approved_by": "Ada"}"#)
            #expect(sale.status == 423, "no box-office sale in fail-safe: \(sale)")
            // Redis is fine meanwhile: it stays in fail-safe until an operator turns it off.
            try await Task.sleep(for: .seconds(2))
            #expect(setup.daemon.log().contains("fail-safe left") == false)

            let offAt = Date()
            let off = try await E2E.cli(["failsafe", "off", "--by", "Ada"], environment: setup.environment)
            #expect(off.0 == 0, "\(off.1)")
            let reopened = try await Self.waitForListings(setup, since: offAt, within: .seconds(60)) { $0.capacity == 90 }
            #expect(reopened.count == 3 && reopened.values.allSatisfy { $0.capacity == 90 }, "reopened: \(reopened); \(setup.daemon.log().suffix(3000))")
            #expect(await setup.daemon.terminate() == 0, "\(setup.daemon.log().suffix(2000))")
        }

        @Test(.timeLimit(.minutes(3)))
        func aRedisRestartedEmptyIsRebuiltFromTheLedgerBeforeSalesReopen() async throws {
            var redis = try await PrivateRedis.start()
            defer { redis.cleanUp() }
            // Only the reconciliation of the recovery may find the orders whose webhooks are lost below.
            let setup = try await Self.setUp("emptied", redis: redis, seed: 809, extra: Self.reconciliationOnly)
            defer { setup.tearDown() }
            _ = try await Self.waitForListings(setup, within: .seconds(30)) { $0.capacity == 90 }
            let started = try await setup.sim.control("/control/demand/start", [
                "events": setup.ids, "rate_per_second": 40, "skew": ["eventbrite": 34, "luma": 33, "meetup": 33],
                "quantity": ["min": 1, "max": 2], "total": 40, "shape": "steady", "cancel_fraction": 0.0,
            ])
            try #require(started.status == 202, "\(String(describing: started.json))")
            let postgres = try E2E.postgres(url: setup.database.url)
            defer { Task { await postgres.shutdown() } }
            var truth: [String: Int] = [:]
            var ledger: [String: Int] = [:]
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let running = (try await setup.sim.control("/control/demand").json as? [String: Any])?["running"] as? Bool
                truth = try await PlatformDropTests.truth(setup.sim)
                ledger = try await PlatformDropTests.ledger(postgres, event: setup.event, holdingOnly: true)
                if running == false, !truth.isEmpty, ledger == truth { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            try #require(!truth.isEmpty && ledger == truth, "the drop settled: \(truth.count) vs \(ledger.count)")

            // More sales whose webhooks never arrive: as if they sat in the queue Redis is about to lose.
            try await Self.sellWithLostWebhooks(setup)
            try await Task.sleep(for: .seconds(1))
            truth = try await PlatformDropTests.truth(setup.sim)
            ledger = try await PlatformDropTests.ledger(postgres, event: setup.event, holdingOnly: true)
            try #require(truth.count > ledger.count, "the ledger misses the sales whose webhooks were lost")
            let sold = truth.values.reduce(0, +)

            redis = try await redis.restart()
            let lossDeadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < lossDeadline, !setup.daemon.log().contains("fail-safe left") {
                try await Task.sleep(for: .milliseconds(100))
            }
            let log = setup.daemon.log()
            #expect(log.contains("Redis lost its data"), "\(log.suffix(3000))")
            #expect(log.contains("fail-safe left"), "\(log.suffix(3000))")
            ledger = try await PlatformDropTests.ledger(postgres, event: setup.event, holdingOnly: true)
            #expect(ledger == truth, "the recovery reconciled the lost sales into the ledger before sales reopened")
            let shown = try await E2E.cli(["event", "show", setup.event, "--json"], environment: setup.environment)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(shown.1.utf8)) as? [String: Any], "\(shown.1)")
            #expect(json["source"] as? String == "redis")
            #expect(json["sold"] as? Int == sold, "counters rebuilt from the ledger: \(shown.1)")
            let reopened = try await Self.waitForListings(setup, within: .seconds(60)) { $0.capacity > $0.sold }
            #expect(reopened.count == 3, "sales reopen: \(reopened)")
            #expect(await setup.daemon.terminate() == 0, "\(setup.daemon.log().suffix(2000))")
        }

        /// G6 across a stop: the daemon is stopped, sales go on on the platforms (their webhooks lost),
        /// Redis restarts empty, and the daemon started again notices the loss from the stamp the ledger
        /// kept, rebuilds and reconciles before sales open.
        @Test(.timeLimit(.minutes(3)))
        func aRedisThatLostItsDataWhileNoDaemonRanIsReconciledAtTheNextStart() async throws {
            var redis = try await PrivateRedis.start()
            defer { redis.cleanUp() }
            // Only a reconciliation may find the orders whose webhooks are lost below.
            let setup = try await Self.setUp("offline", redis: redis, seed: 811, extra: Self.reconciliationOnly)
            defer { setup.tearDown() }
            _ = try await Self.waitForListings(setup, within: .seconds(30)) { $0.capacity == 90 }
            let postgres = try E2E.postgres(url: setup.database.url)
            defer { Task { await postgres.shutdown() } }
            #expect(await setup.daemon.terminate() == 0, "\(setup.daemon.log().suffix(2000))")

            try await Self.sellWithLostWebhooks(setup)
            let truth = try await PlatformDropTests.truth(setup.sim)
            try #require(!truth.isEmpty)
            #expect(try await PlatformDropTests.ledger(postgres, event: setup.event, holdingOnly: true).isEmpty)

            redis = try await redis.restart()
            try await setup.daemon.start()
            let deadline = ContinuousClock.now + .seconds(60)
            var ledger: [String: Int] = [:]
            while ContinuousClock.now < deadline {
                ledger = try await PlatformDropTests.ledger(postgres, event: setup.event, holdingOnly: true)
                if ledger == truth, setup.daemon.log().contains("fail-safe left") { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let log = setup.daemon.log()
            #expect(log.contains("Redis lost its data while no daemon watched it"), "\(log.suffix(3000))")
            #expect(log.contains("reconciling every open event"), "\(log.suffix(3000))")
            #expect(ledger == truth, "the sales made while no daemon ran are in the ledger: \(truth.count) vs \(ledger.count)")
            let reopened = try await Self.waitForListings(setup, within: .seconds(60)) { $0.capacity > $0.sold }
            #expect(reopened.count == 3, "sales reopen: \(reopened)")
            #expect(await setup.daemon.terminate() == 0, "\(setup.daemon.log().suffix(2000))")
        }
    }
}
