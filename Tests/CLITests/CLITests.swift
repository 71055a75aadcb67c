import Foundation
import Testing

/// The `traffic-police` command line, run as a process against the real Redis and PostgreSQL:
/// its fixed forms, its JSON and every error path with its exit code (DESIGN.md section 6).
@Suite struct CLITests {
    init() async throws {
        try CLIProcess.requireServers()
        let migrate = try await CLIProcess.run(["migrate"])
        #expect(migrate.status == 0, "\(migrate)")
    }

    private func showJSON(_ id: String) async throws -> [String: Any] {
        let show = try await CLIProcess.run(["event", "show", id, "--json"])
        try #require(show.status == 0, "\(show)")
        return try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
    }

    @Test(arguments: [
        ["--help"], ["migrate", "--help"], ["event", "--help"], ["event", "create", "--help"],
        ["event", "link", "--help"], ["event", "show", "--help"], ["event", "list", "--help"], ["sell", "--help"],
        ["serve", "--help"], ["queue", "--help"], ["queue", "stats", "--help"], ["queue", "dead-letters", "--help"],
        ["queue", "retry", "--help"], ["failsafe", "--help"], ["failsafe", "on", "--help"],
        ["failsafe", "off", "--help"], ["failsafe", "status", "--help"], ["reconcile", "--help"], ["status", "--help"],
    ])
    func everyCommandHasHelp(arguments: [String]) async throws {
        let result = try await CLIProcess.run(arguments)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("USAGE"))
    }

    @Test func migrateIsIdempotent() async throws {
        let again = try await CLIProcess.run(["migrate"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("up to date"), "\(again)")
        let json = try await CLIProcess.run(["migrate", "--json"])
        #expect(json.status == 0, "\(json)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json)")
        #expect(object["applied"] as? [Int] == [])
        #expect((object["version"] as? Int ?? 0) >= 6, "\(json.stdout)")
    }

    @Test func createShowAndListAnEvent() async throws {
        let id = CLIProcess.uniqueID("cli")
        let create = try await CLIProcess.run([
            "event", "create", id, "--name", "Launch party", "--capacity", "1000", "--split",
            "eventbrite=6,luma=3,meetup=1",
        ])
        #expect(create.status == 0, "\(create)")

        let json = try await showJSON(id)
        #expect(json["id"] as? String == id)
        #expect(json["capacity"] as? Int == 1000)
        #expect(json["safety_stock"] as? Int == 100)
        #expect(json["soft_cap"] as? Int == 900)
        #expect(json["sold"] as? Int == 0)
        #expect(json["stock"] as? Int == 1000)
        #expect(json["mode"] as? String == "open")
        let platforms = try #require(json["platforms"] as? [String: [String: Any]])
        #expect(Set(platforms.keys) == ["eventbrite", "luma", "meetup", "box_office"])
        #expect(platforms["eventbrite"]?["allocation"] as? Int == 540)
        #expect(platforms["luma"]?["allocation"] as? Int == 270)
        #expect(platforms["meetup"]?["allocation"] as? Int == 90)
        for name in ["eventbrite", "luma", "meetup", "box_office"] {
            #expect(platforms[name]?["published"] as? Int == 0)
            #expect(platforms[name]?["sold"] as? Int == 0)
        }

        let list = try await CLIProcess.run(["event", "list", "--json"])
        #expect(list.status == 0)
        let events = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(events.contains { $0["id"] as? String == id })

        let text = try await CLIProcess.run(["event", "show", id])
        #expect(text.status == 0)
        #expect(text.stdout.contains("Launch party"))
    }

    @Test func linkRecordsThePlatformEvent() async throws {
        let id = CLIProcess.uniqueID("link")
        #expect(try await CLIProcess.run(["event", "create", id, "--name", "L", "--capacity", "30"]).status == 0)
        let pid = CLIProcess.uniqueID("eb")
        let link = try await CLIProcess.run([
            "event", "link", id, "--platform", "eventbrite", "--platform-event", pid, "--ticket-class", "tc-1",
        ])
        #expect(link.status == 0, "\(link)")
        let platforms = try #require(try await showJSON(id)["platforms"] as? [String: [String: Any]])
        #expect(platforms["eventbrite"]?["platform_event_id"] as? String == pid)
        #expect(platforms["eventbrite"]?["ticket_class_id"] as? String == "tc-1")

        // --json prints the event as `event show --json` does, with the new link.
        let lumaID = CLIProcess.uniqueID("evt")
        let linked = try await CLIProcess.run(["event", "link", id, "--platform", "luma", "--platform-event", lumaID, "--json"])
        #expect(linked.status == 0, "\(linked)")
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(linked.stdout.utf8)) as? [String: Any], "\(linked)")
        #expect(shown["id"] as? String == id)
        let linkedPlatforms = try #require(shown["platforms"] as? [String: [String: Any]])
        #expect(linkedPlatforms["luma"]?["platform_event_id"] as? String == lumaID)
        #expect(linkedPlatforms["eventbrite"]?["platform_event_id"] as? String == pid)

        // The same platform event cannot be linked to a second event.
        let other = CLIProcess.uniqueID("link")
        #expect(try await CLIProcess.run(["event", "create", other, "--name", "O", "--capacity", "30"]).status == 0)
        let taken = try await CLIProcess.run(["event", "link", other, "--platform", "eventbrite", "--platform-event", pid])
        #expect(taken.status == 1, "\(taken)")
        #expect(taken.stderr.contains("already linked"))

        let badPlatform = try await CLIProcess.run(["event", "link", id, "--platform", "myspace", "--platform-event", "x"])
        #expect(badPlatform.status == 64)
        let ticketClassElsewhere = try await CLIProcess.run([
            "event", "link", id, "--platform", "luma", "--platform-event", "evt-1", "--ticket-class", "tc",
        ])
        #expect(ticketClassElsewhere.status == 64)
    }

    @Test func theBoxOfficeSellsTheSafetyStockOnlyWithApproval() async throws {
        let id = CLIProcess.uniqueID("sell")
        #expect(try await CLIProcess.run(["event", "create", id, "--name", "S", "--capacity", "100"]).status == 0)

        let unapproved = try await CLIProcess.run(["sell", id, "--qty", "2", "--by", "ana"])
        #expect(unapproved.status == 1, "\(unapproved)")
        #expect(unapproved.stderr.contains("--approve"))

        let tooMany = try await CLIProcess.run(["sell", id, "--qty", "11", "--approve", "--by", "ana"])
        #expect(tooMany.status == 1, "\(tooMany)")
        #expect(tooMany.stderr.contains("10 free"))

        let sold = try await CLIProcess.run(["sell", id, "--qty", "4", "--approve", "--by", "ana", "--sale-id", "s-1"])
        #expect(sold.status == 0, "\(sold)")
        let repeated = try await CLIProcess.run(["sell", id, "--qty", "4", "--approve", "--by", "ana", "--sale-id", "s-1"])
        #expect(repeated.status == 0)
        #expect(repeated.stdout.contains("already"))

        let json = try await showJSON(id)
        #expect(json["sold"] as? Int == 4)
        #expect(json["stock"] as? Int == 96)
        let platforms = try #require(json["platforms"] as? [String: [String: Any]])
        #expect(platforms["box_office"]?["sold"] as? Int == 4)
        #expect(platforms["box_office"]?["allocation"] as? Int == 10)

        let rest = try await CLIProcess.run(["sell", id, "--qty", "7", "--approve", "--by", "ana"])
        #expect(rest.status == 1, "\(rest)")
        #expect(rest.stderr.contains("6 free"))
    }

    /// `sell --json`: a sale, the same `--sale-id` again and a refusal are each one JSON object on stdout.
    @Test func sellJSONIsOneObjectForEveryOutcome() async throws {
        let id = CLIProcess.uniqueID("selljson")
        #expect(try await CLIProcess.run(["event", "create", id, "--name", "S", "--capacity", "100"]).status == 0)
        func object(_ result: CLIProcess.Result) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
        }
        let sell = ["sell", id, "--qty", "3", "--approve", "--by", "ana", "--sale-id", "j-1", "--json"]

        let sold = try await CLIProcess.run(sell)
        #expect(sold.status == 0, "\(sold)")
        let first = try object(sold)
        #expect(first["sale_id"] as? String == "j-1" && first["sold"] as? Int == 3 && first["stock"] as? Int == 97)
        #expect(first["duplicate"] as? Bool == false && first["red_alert"] as? Bool == false)

        let repeated = try await CLIProcess.run(sell)
        #expect(repeated.status == 0, "\(repeated)")
        let again = try object(repeated)
        #expect(again["sale_id"] as? String == "j-1" && again["sold"] as? Int == 3 && again["stock"] as? Int == 97)
        #expect(again["duplicate"] as? Bool == true)

        let tooMany = try await CLIProcess.run(["sell", id, "--qty", "8", "--approve", "--by", "ana", "--json"])
        #expect(tooMany.status == 1, "\(tooMany)")
        let refused = try object(tooMany)
        #expect(refused["refused"] as? Bool == true && refused["available"] as? Int == 7)
        #expect((refused["reason"] as? String)?.contains("7 free") == true)

        let unapproved = try await CLIProcess.run(["sell", id, "--qty", "1", "--by", "ana", "--json"])
        #expect(unapproved.status == 1, "\(unapproved)")
        #expect(try object(unapproved)["refused"] as? Bool == true)
        #expect(try await showJSON(id)["sold"] as? Int == 3)
    }

    @Test(arguments: [
        (["event", "create", "x", "--name", "N", "--capacity", "0"], "capacity"),
        (["event", "create", "x", "--name", "N", "--capacity", "-5"], "capacity"),
        (["event", "create", "x", "--name", "N", "--capacity", "ten"], "capacity"),
        (["event", "create", "x", "--name", "N", "--capacity", "10", "--safety-stock", "1"], "safety stock"),
        (["event", "create", "x", "--name", "N", "--capacity", "10", "--soft-cap", "0.95"], "soft cap"),
        (["event", "create", "x", "--name", "N", "--capacity", "10", "--soft-cap", "0"], "soft cap"),
        (["event", "create", "x", "--name", "N", "--capacity", "10", "--split", "twitter=1"], "twitter"),
        (["event", "create", "bad{id}", "--name", "N", "--capacity", "10"], "event id"),
        (["event", "create", "x", "--capacity", "10"], "--name"),
        (["sell", "x", "--qty", "0", "--approve", "--by", "ana"], "quantity"),
        (["sell", "x", "--qty", "1", "--approve"], "--by"),
        (["sell", "x", "--qty", "1", "--approve", "--by", "  "], "--by"),
        (["sell", "x", "--qty", "1", "--approve", "--by", "ana", "--sale-id", ""], "--sale-id"),
        (["frobnicate"], "frobnicate"),
    ])
    func badArgumentsAreUsageErrors(arguments: [String], mentions: String) async throws {
        let result = try await CLIProcess.run(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains(mentions), "\(result)")
    }

    @Test func anExistingOrUnknownEventIsRefused() async throws {
        let id = CLIProcess.uniqueID("dup")
        #expect(try await CLIProcess.run(["event", "create", id, "--name", "D", "--capacity", "10"]).status == 0)
        let again = try await CLIProcess.run(["event", "create", id, "--name", "D", "--capacity", "10"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists"))

        let unknown = CLIProcess.uniqueID("nope")
        for arguments in [
            ["event", "show", unknown], ["sell", unknown, "--qty", "1", "--approve", "--by", "ana"],
            ["event", "link", unknown, "--platform", "luma", "--platform-event", CLIProcess.uniqueID("evt")],
        ] {
            let result = try await CLIProcess.run(arguments)
            #expect(result.status == 1, "\(arguments): \(result)")
            #expect(result.stderr.contains("no event \(unknown)"), "\(result)")
        }
    }

    @Test func unreachableDependenciesExit69() async throws {
        let closedPort = "127.0.0.1:9"
        let noRedis = try await CLIProcess.run(
            ["event", "create", CLIProcess.uniqueID("u"), "--name", "U", "--capacity", "10"],
            environment: ["TRAFFIC_POLICE_REDIS_URL": "redis://\(closedPort)"])
        #expect(noRedis.status == 69, "\(noRedis)")
        #expect(noRedis.stderr.contains("Redis"))
        #expect(noRedis.stderr.split(separator: "\n").count == 1, "one line: \(noRedis.stderr)")

        let noPostgres = try await CLIProcess.run(
            ["event", "list"], environment: ["TRAFFIC_POLICE_POSTGRES_URL": "postgresql://postgres@\(closedPort)/x"])
        #expect(noPostgres.status == 69, "\(noPostgres)")
        #expect(noPostgres.stderr.contains("PostgreSQL"))

        let migrate = try await CLIProcess.run(
            ["migrate"], environment: ["TRAFFIC_POLICE_POSTGRES_URL": "postgresql://postgres@\(closedPort)/x"])
        #expect(migrate.status == 69, "\(migrate)")
    }

    /// `reconcile --event`: an event with no linked platform agrees (exit 0); one linked to a
    /// platform without credentials cannot be read (exit 69, reported in the JSON); an unknown
    /// event is refused (exit 1); Redis unreachable exits 69. (Runs against the simulator:
    /// TrafficPoliceTests' ReconcileTests.)
    @Test func reconcileReportsWhatItCouldReadAndExitsAccordingly() async throws {
        let noCredentials: [String: String?] = ["CREDENTIALS_DIRECTORY": nil]
        let unlinked = CLIProcess.uniqueID("rec")
        #expect(try await CLIProcess.run(["event", "create", unlinked, "--name", "R", "--capacity", "20"]).status == 0)
        let agrees = try await CLIProcess.run(["reconcile", "--event", unlinked], environment: noCredentials)
        #expect(agrees.status == 0, "\(agrees)")
        #expect(agrees.stdout.contains("\(unlinked): agrees") && agrees.stdout.contains("the ledger agrees"), "\(agrees)")

        let linked = CLIProcess.uniqueID("rec")
        #expect(try await CLIProcess.run(["event", "create", linked, "--name", "R", "--capacity", "20"]).status == 0)
        let lumaEvent = CLIProcess.uniqueID("evt")
        let link = try await CLIProcess.run(["event", "link", linked, "--platform", "luma", "--platform-event", lumaEvent])
        #expect(link.status == 0, "\(link)")
        let unreadable = try await CLIProcess.run(
            ["reconcile", "--event", linked, "--dry-run", "--json"], environment: noCredentials)
        #expect(unreadable.status == 69, "\(unreadable)")
        let run = try #require(try JSONSerialization.jsonObject(with: Data(unreadable.stdout.utf8)) as? [String: Any])
        #expect(run["dry_run"] as? Bool == true && run["exit_code"] as? Int == 69 && run["agrees"] as? Bool == false)
        let events = try #require(run["events"] as? [[String: Any]])
        let platforms = try #require(events.first?["platforms"] as? [[String: Any]])
        #expect(events.first?["event"] as? String == linked)
        #expect(platforms.first?["platform"] as? String == "luma")
        #expect(platforms.first?["platform_event_id"] as? String == lumaEvent)
        #expect((platforms.first?["unreadable"] as? String)?.contains("not enabled") == true, "\(platforms)")

        let unknown = try await CLIProcess.run(["reconcile", "--event", CLIProcess.uniqueID("none")])
        #expect(unknown.status == 1, "\(unknown)")
        let noRedis = try await CLIProcess.run(
            ["reconcile", "--event", unlinked], environment: ["TRAFFIC_POLICE_REDIS_URL": "redis://127.0.0.1:9"])
        #expect(noRedis.status == 69, "\(noRedis)")
        let badID = try await CLIProcess.run(["reconcile", "--event", ""])
        #expect(badID.status == 64, "\(badID)")
    }

    @Test func showFallsBackToTheLedgerWhenRedisIsDown() async throws {
        let id = CLIProcess.uniqueID("fallback")
        #expect(try await CLIProcess.run(["event", "create", id, "--name", "F", "--capacity", "40"]).status == 0)
        let show = try await CLIProcess.run(
            ["event", "show", id, "--json"], environment: ["TRAFFIC_POLICE_REDIS_URL": "redis://127.0.0.1:9"])
        #expect(show.status == 0, "\(show)")
        #expect(show.stderr.contains("ledger"))
        #expect(show.stdout.contains("\"source\" : \"ledger\""))
    }

    /// `serve` whose Redis or PostgreSQL never answers gives up after `[startup] timeout_ms` with
    /// exit 69 (not 70: nothing is wrong with the daemon) and a line naming the one that did not answer.
    /// Without Redis, PostgreSQL is unreachable too: a daemon that lost Redis reports its fail-safe
    /// in the ledger, and the shared test database would then refuse every box-office sale for 10 s.
    @Test(arguments: [
        (["TRAFFIC_POLICE_REDIS_URL": "redis://127.0.0.1:9", "TRAFFIC_POLICE_POSTGRES_URL": "postgresql://postgres@127.0.0.1:9/x"],
         "Redis unreachable"),
        (["TRAFFIC_POLICE_POSTGRES_URL": "postgresql://postgres@127.0.0.1:9/x"], "PostgreSQL unreachable"),
    ])
    func serveExits69WhenADependencyNeverAnswers(unreachable: [String: String], named: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(CLIProcess.uniqueID("serve69")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var environment: [String: String?] = [
            "TRAFFIC_POLICE_STARTUP_TIMEOUT_MS": "1000",
            "TRAFFIC_POLICE_INTAKE_SOCKET": directory + "/webhook.sock",
            "TRAFFIC_POLICE_ADMIN_SOCKET": directory + "/admin.sock", "TRAFFIC_POLICE_SPOOL_DIR": directory,
            "NOTIFY_SOCKET": nil, "LISTEN_FDS": nil, "LISTEN_PID": nil,
        ]
        for (key, value) in unreachable { environment[key] = value }
        let result = try await CLIProcess.run(
            ["serve"],
            environment: environment,
            timeout: .seconds(30))
        #expect(result.status == 69, "\(result)")
        let last = result.stderr.split(separator: "\n").last { $0.contains("critical") }
        #expect(last?.contains(named) == true, "\(result)")
    }

    @Test func serveRefusesBadConfigurationWithExit78() async throws {
        let badBody = try await CLIProcess.run(["serve"], environment: ["TRAFFIC_POLICE_INTAKE_MAX_BODY_BYTES": "lots"])
        #expect(badBody.status == 78, "\(badBody)")
        #expect(badBody.stderr.contains("intake.max_body_bytes"))
        #expect(badBody.stderr.split(separator: "\n").count == 1, "one line: \(badBody.stderr)")
        let badScheme = try await CLIProcess.run(
            ["serve"], environment: ["TRAFFIC_POLICE_PLATFORMS_LUMA_SIGNATURE_SCHEME": "md5"])
        #expect(badScheme.status == 78, "\(badScheme)")
        #expect(badScheme.stderr.contains("platforms.luma.signature_scheme"))
    }

    @Test func badConfigurationNamesTheKeyAndExits78() async throws {
        let badURL = try await CLIProcess.run(["event", "list"], environment: ["TRAFFIC_POLICE_REDIS_URL": "http://nope"])
        #expect(badURL.status == 78, "\(badURL)")
        #expect(badURL.stderr.contains("redis.url"))

        let badPool = try await CLIProcess.run(["event", "list"], environment: ["TRAFFIC_POLICE_POSTGRES_POOL_SIZE": "many"])
        #expect(badPool.status == 78, "\(badPool)")
        #expect(badPool.stderr.contains("postgres.pool_size"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(CLIProcess.uniqueID("cfg"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let typo = directory.appendingPathComponent("typo.toml")
        try "[redis]\nurll = \"redis://127.0.0.1:6379\"\n".write(to: typo, atomically: true, encoding: .utf8)
        let unknownKey = try await CLIProcess.run(["event", "list", "--config", typo.path])
        #expect(unknownKey.status == 78, "\(unknownKey)")
        #expect(unknownKey.stderr.contains("redis.urll"))

        let broken = directory.appendingPathComponent("broken.toml")
        try "[redis\nurl = ".write(to: broken, atomically: true, encoding: .utf8)
        let notTOML = try await CLIProcess.run(["event", "list", "--config", broken.path])
        #expect(notTOML.status == 78, "\(notTOML)")

        let missing = try await CLIProcess.run(["event", "list", "--config", directory.appendingPathComponent("none.toml").path])
        #expect(missing.status == 78, "\(missing)")

        // A valid file is read, and the environment still wins over it.
        let good = directory.appendingPathComponent("good.toml")
        try "[redis]\nurl = \"redis://127.0.0.1:9\"\n".write(to: good, atomically: true, encoding: .utf8)
        let fromFile = try await CLIProcess.run(
            ["event", "create", CLIProcess.uniqueID("f"), "--name", "F", "--capacity", "5", "--config", good.path],
            environment: ["TRAFFIC_POLICE_REDIS_URL": nil])
        #expect(fromFile.status == 69, "the file's unreachable Redis is used: \(fromFile)")
        let envWins = try await CLIProcess.run(["event", "list", "--config", good.path])
        #expect(envWins.status == 0, "\(envWins)")
    }
}
