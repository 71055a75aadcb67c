import Foundation
import Testing

/// `traffic-police status [--json]`: daemons, the switch, the queue and every event on one screen,
/// each test on a database of its own (the switch and the daemon rows are shared by a whole ledger).
@Suite struct StatusCLITests {
    init() throws { try CLIProcess.requireServers() }

    @Test func showsTheDaemonsTheSwitchTheQueueAndEveryEvent() async throws {
        try await CLIDatabase.with { database in
            let env = database.environment
            let nobody = try await CLIProcess.run(["status"], environment: env)
            #expect(nobody.status == 0, "\(nobody)")
            #expect(nobody.stdout.contains("sales: NOTHING IS SERVING"), "\(nobody)")
            #expect(nobody.stdout.contains("events: none"), "\(nobody)")
            #expect(try await statusJSON(env)["serving"] as? Bool == false)

            // Red alert: capacity 10, safety stock 5, soft cap 5; the box office sells the 5.
            let hot = CLIProcess.uniqueID("st-hot")
            #expect(
                try await CLIProcess.run(
                    ["event", "create", hot, "--name", "H", "--capacity", "10", "--safety-stock", "0.5", "--soft-cap", "0.5"],
                    environment: env
                ).status == 0)
            let sold = try await CLIProcess.run(["sell", hot, "--qty", "5", "--approve", "--by", "ana"], environment: env)
            #expect(sold.status == 0, "\(sold)")
            let calm = CLIProcess.uniqueID("st-calm")
            #expect(try await CLIProcess.run(["event", "create", calm, "--name", "C", "--capacity", "100"], environment: env).status == 0)
            _ = try await database.postgres.query(
                """
                INSERT INTO daemon_instances (id, hostname, pid, failsafe, state, status)
                VALUES ('d-1', 'host-a', 4242, false, 'healthy', 'mode=open queue=0 spool=0')
                """)
            let open = try await CLIProcess.run(["status"], environment: env)
            #expect(open.status == 0, "\(open)")
            #expect(open.stdout.contains("sales: open (1 daemon instance serving)"), "\(open)")
            #expect(open.stdout.contains("host-a pid 4242 (d-1): healthy since"), "\(open)")
            #expect(open.stdout.contains("    mode=open queue=0 spool=0"), "\(open)")
            #expect(open.stdout.contains("fail-safe switch: off"), "\(open)")
            #expect(open.stdout.contains("queue: depth "), "\(open)")
            #expect(eventRow(hot, open.stdout)?.contains("RED ALERT  5/10") == true, "\(open)")
            #expect(eventRow(calm, open.stdout)?.contains("open") == true, "\(open)")

            let on = try await CLIProcess.run(["failsafe", "on", "--by", "ana", "--reason", "drill"], environment: env)
            #expect(on.status == 0, "\(on)")
            let closed = try await CLIProcess.run(["status"], environment: env)
            #expect(closed.status == 0, "\(closed)")
            #expect(closed.stdout.contains("sales: CLOSED (fail-safe was turned on by ana (drill))"), "\(closed)")
            #expect(closed.stdout.contains("fail-safe switch: ON (set by ana at "), "\(closed)")
            #expect(eventRow(calm, closed.stdout)?.contains("FAIL-SAFE  0/100") == true, "\(closed)")

            let json = try await statusJSON(env)
            let daemons = try #require(json["daemons"] as? [[String: Any]])
            #expect(daemons.count == 1)
            #expect(daemons.first?["hostname"] as? String == "host-a" && daemons.first?["pid"] as? Int == 4242)
            #expect(daemons.first?["status"] as? String == "mode=open queue=0 spool=0")
            let failsafeSwitch = try #require(json["failsafe_switch"] as? [String: Any])
            #expect(failsafeSwitch["on"] as? Bool == true && failsafeSwitch["changed_by"] as? String == "ana")
            #expect(failsafeSwitch["reason"] as? String == "drill")
            #expect(json["failsafe"] as? Bool == true && json["serving"] as? Bool == true)
            #expect(json["freshness_seconds"] as? Int == 10)
            let queue = try #require(json["queue"] as? [String: Any])
            for key in ["depth", "in_flight", "delayed", "dead_letters", "awaiting_resolution"] {
                #expect(queue[key] is Int, "queue.\(key): \(queue)")
            }
            let events = try #require(json["events"] as? [[String: Any]])
            let event = try #require(events.first { $0["id"] as? String == hot })
            #expect(event["mode"] as? String == "failsafe" && event["sold"] as? Int == 5 && event["capacity"] as? Int == 10)
            // Red alert closed the platforms: the 5 left are free stock, for the box office.
            #expect(event["free_stock"] as? Int == 5 && event["source"] as? String == "redis")
            #expect(events.count == 2)
            let errors = try #require(json["errors"] as? [String: Any])
            #expect(errors["redis"] is NSNull && errors["postgres"] is NSNull, "\(errors)")
        }
    }

    @Test func withoutRedisItShowsTheLedgerAndExits69() async throws {
        try await CLIDatabase.with { database in
            let id = CLIProcess.uniqueID("st-nr")
            #expect(
                try await CLIProcess.run(["event", "create", id, "--name", "N", "--capacity", "30"], environment: database.environment)
                    .status == 0)
            #expect(
                try await CLIProcess.run(["failsafe", "on", "--by", "ana"], environment: database.environment).status == 0)
            let env = database.environment.merging(["TRAFFIC_POLICE_REDIS_URL": "redis://127.0.0.1:9"]) { $1 }
            let text = try await CLIProcess.run(["status"], environment: env)
            #expect(text.status == 69, "\(text)")
            #expect(text.stdout.contains("fail-safe switch: ON (set by ana"), "\(text)")
            #expect(text.stdout.contains("queue: unknown (Redis unreachable)"), "\(text)")
            #expect(text.stdout.contains("ledger figures: Redis unreachable"), "\(text)")
            #expect(eventRow(id, text.stdout)?.contains("0/30") == true, "\(text)")
            #expect(text.stderr.contains("Redis"), "\(text)")

            let json = try await CLIProcess.run(["status", "--json"], environment: env)
            #expect(json.status == 69, "\(json)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["queue"] is NSNull)
            #expect((object["failsafe_switch"] as? [String: Any])?["on"] as? Bool == true)
            let events = try #require(object["events"] as? [[String: Any]])
            #expect(events.first?["id"] as? String == id && events.first?["source"] as? String == "ledger")
            let errors = try #require(object["errors"] as? [String: Any])
            #expect((errors["redis"] as? String)?.contains("Redis") == true && errors["postgres"] is NSNull, "\(errors)")
        }
    }

    @Test func withoutPostgreSQLItShowsTheQueueAndExits69() async throws {
        let env: [String: String?] = ["TRAFFIC_POLICE_POSTGRES_URL": "postgresql://postgres@127.0.0.1:9/x"]
        let text = try await CLIProcess.run(["status"], environment: env)
        #expect(text.status == 69, "\(text)")
        #expect(text.stdout.contains("sales: UNKNOWN (PostgreSQL unreachable)"), "\(text)")
        #expect(text.stdout.contains("queue: depth "), "\(text)")
        #expect(text.stderr.contains("PostgreSQL"), "\(text)")

        let json = try await CLIProcess.run(["status", "--json"], environment: env)
        #expect(json.status == 69, "\(json)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["daemons"] is NSNull && object["events"] is NSNull && object["failsafe_switch"] is NSNull)
        #expect(object["queue"] is [String: Any])
        #expect(((object["errors"] as? [String: Any])?["postgres"] as? String)?.contains("PostgreSQL") == true)
    }

    /// The line of the events table that starts with `id`.
    private func eventRow(_ id: String, _ stdout: String) -> String? {
        stdout.split(separator: "\n").map(String.init).first { $0.hasPrefix("  \(id) ") }
    }

    private func statusJSON(_ env: [String: String?]) async throws -> [String: Any] {
        let result = try await CLIProcess.run(["status", "--json"], environment: env)
        try #require(result.status == 0, "\(result)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }
}
