import Foundation
import Testing

extension DaemonSuite {
    /// G7 across instances: two daemons sharing one Redis call the same platforms with the same
    /// tokens, under limits lowered on both sides to where the daemons want more calls than the
    /// platforms allow; the platforms never answer a 429 (or Meetup's RATE_LIMITED), and what
    /// they were asked stays within each published limit.
    @Suite struct SharedBudgetTests {
        typealias E2E = DaemonEndToEndTests

        @Test(.timeLimit(.minutes(3)))
        func twoDaemonsSharingRedisStayWithinEveryBudget() async throws {
            let sim = try SimulatorProcess(seed: 7)
            defer { sim.stop() }
            try await sim.start()
            let database = try await TestDatabase.create()
            let db = ["TRAFFIC_POLICE_POSTGRES_URL": database.url]
            defer { Task { await database.drop() } }
            // Published limits, lowered: Eventbrite 20 calls an hour, Luma 20 requests a minute,
            // Meetup 60 points a minute. The run lasts well under a minute.
            let limits = try await sim.control("/control/config", [
                "eventbrite": ["calls_per_window": 20, "window_seconds": 3600],
                "luma": ["requests_per_window": 20, "window_seconds": 60, "max_page_size": 5],
                "meetup": ["points_per_window": 60, "window_seconds": 60],
            ])
            try #require(limits.status == 200, "\(String(describing: limits.json))")

            let suffix = UUID().uuidString.prefix(8).lowercased()
            let event = "budget-\(suffix)"
            let ids = [
                "eventbrite": String(Int.random(in: 100_000_000...999_999_999)), "luma": "evt-budget-\(suffix)",
                "meetup": String(Int.random(in: 100_000_000...999_999_999)),
            ]
            #expect(try await E2E.cli(["migrate"], environment: db).0 == 0)
            try #require(try await E2E.cli(["event", "create", event, "--name", "Budget", "--capacity", "3000"], environment: db).0 == 0)
            for (platform, id) in ids {
                try #require(try await E2E.cli(["event", "link", event, "--platform", platform, "--platform-event", id], environment: db).0 == 0)
                #expect(try await sim.control("/control/events", ["platform": platform, "id": id, "capacity": 900]).status == 201)
            }

            // Tokens of this test's own, so its throttle buckets (keyed by token) are its own.
            let tokens = ["eventbrite": "eb-\(suffix)", "luma": "luma-\(suffix)", "meetup": "meetup-\(suffix)"]
            #expect(try await sim.control("/control/credentials", tokens.mapValues { [$0] }).status == 200)
            var environment = sim.daemonEnvironment().merging(db) { $1 }
            environment["TRAFFIC_POLICE_CREDENTIAL_EVENTBRITE_TOKEN"] = tokens["eventbrite"]
            environment["TRAFFIC_POLICE_CREDENTIAL_LUMA_API_KEY"] = tokens["luma"]
            environment["TRAFFIC_POLICE_CREDENTIAL_MEETUP_TOKEN"] = tokens["meetup"]
            environment["TRAFFIC_POLICE_PLATFORMS_EVENTBRITE_CALLS_PER_HOUR"] = "20"
            environment["TRAFFIC_POLICE_PLATFORMS_LUMA_REQUESTS_PER_MINUTE"] = "20"
            environment["TRAFFIC_POLICE_PLATFORMS_MEETUP_POINTS_PER_MINUTE"] = "60"
            // Both instances want far more calls than that: sweeps and catch-up reads every second,
            // Meetup polled every 2 s.
            environment["TRAFFIC_POLICE_PLATFORMS_LUMA_SWEEP_INTERVAL_MS"] = "1000"
            environment["TRAFFIC_POLICE_PLATFORMS_EVENTBRITE_CATCH_UP_INTERVAL_MS"] = "1000"
            environment["TRAFFIC_POLICE_PLATFORMS_MEETUP_IDLE_POLL_INTERVAL_MS"] = "2000"
            let first = try DaemonProcess(overrides: environment)
            let second = try DaemonProcess(overrides: environment)
            defer {
                first.cleanUp()
                second.cleanUp()
            }
            try await first.start()
            try await second.start()
            #expect(try await sim.control("/control/config", [
                "eventbrite": ["webhook": ["unix_socket": first.webhookSocket, "path": "/webhooks/eventbrite"]],
                "luma": ["webhook": ["unix_socket": second.webhookSocket, "path": "/webhooks/luma"]],
            ]).status == 200)
            #expect(try await sim.control("/control/demand/start", [
                "events": ids, "rate_per_second": 20, "skew": ["eventbrite": 40, "luma": 30, "meetup": 30],
                "quantity": ["min": 1, "max": 2], "total": 300, "shape": "steady",
            ]).status == 202)
            try await Task.sleep(for: .seconds(25))
            _ = try await sim.control("/control/demand/stop", [:])

            let requests = try #require(
                (try await sim.control("/control/requests").json as? [String: Any])?["requests"] as? [[String: Any]])
            let byPlatform = Dictionary(grouping: requests) { $0["platform"] as? String ?? "" }
            let meetupPoints = byPlatform["meetup", default: []].reduce(0) { $0 + ($1["points"] as? Int ?? 0) }
            let limited = (try await sim.control("/control/rate-limited").json as? [String: Any])?["rate_limited"] as? [Any]
            print(
                "shared budgets: eventbrite \(byPlatform["eventbrite", default: []].count) calls, "
                    + "luma \(byPlatform["luma", default: []].count) requests, meetup \(meetupPoints) points "
                    + "(\(byPlatform["meetup", default: []].count) requests), 429s: \(limited?.count ?? -1)")
            #expect(limited?.isEmpty == true, "the simulator answered 429s: \(String(describing: limited))")
            #expect(byPlatform["eventbrite", default: []].count <= 20)
            #expect(byPlatform["luma", default: []].count <= 20)
            // Meetup's costs are unpublished: no window above 80% of its 60 points, burst included.
            #expect(meetupPoints <= 48)
            // The daemons wanted far more than the limits allow, so each platform was called close to
            // what the throttler admits in the run (Luma: a burst of 2 plus 18 a minute; Meetup: 12 plus
            // 36 points a minute), and both instances called.
            #expect(byPlatform["luma", default: []].count >= 5)
            #expect(meetupPoints >= 10)
            for daemon in [first, second] {
                let metrics = try await UnixHTTPClient.get(socketPath: daemon.adminSocket, path: "/metrics").body
                #expect(metrics.contains("traffic_police_platform_calls_total"), "an instance made no platform call")
            }
            #expect(await first.terminate() == 0, "\(first.log().suffix(2000))")
            #expect(await second.terminate() == 0, "\(second.log().suffix(2000))")
        }
    }
}
