import Foundation
import PostgresBridge
import Testing

/// `traffic-police failsafe on|off|status` and what the switch and the daemons' reports do to
/// `sell` and `event show`, each test on a database of its own (the switch is shared by everything
/// using a ledger, so flipping the shared one would close other tests' box offices).
@Suite struct FailsafeCLITests {
    init() throws { try CLIProcess.requireServers() }

    @Test func theSwitchClosesTheBoxOfficeUntilTurnedOff() async throws {
        try await CLIDatabase.with { database in
            let env = database.environment
            let id = CLIProcess.uniqueID("fs")
            #expect(try await CLIProcess.run(["event", "create", id, "--name", "F", "--capacity", "100"], environment: env).status == 0)
            let initial = try await status(env)
            #expect(initial["failsafe"] as? Bool == false)
            #expect((initial["instances"] as? [Any])?.isEmpty == true)

            let on = try await CLIProcess.run(["failsafe", "on", "--by", "ana", "--reason", "drill"], environment: env)
            #expect(on.status == 0, "\(on)")
            #expect(on.stdout.contains("within about a second"), "\(on)")
            let now = try await status(env)
            let switchOn = try #require(now["switch"] as? [String: Any])
            #expect(switchOn["on"] as? Bool == true && switchOn["changed_by"] as? String == "ana")
            #expect(switchOn["reason"] as? String == "drill")
            #expect(now["failsafe"] as? Bool == true)
            let text = try await CLIProcess.run(["failsafe", "status"], environment: env)
            #expect(text.status == 0 && text.stdout.contains("ON") && text.stdout.contains("ana"), "\(text)")

            let refused = try await CLIProcess.run(["sell", id, "--qty", "1", "--approve", "--by", "ana"], environment: env)
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.stderr.contains("fail-safe") && refused.stderr.contains("ana"), "\(refused)")
            #expect(try await show(id, env)["mode"] as? String == "failsafe")
            #expect(try await show(id, env)["sold"] as? Int == 0)

            // `off` without --by names $SUDO_USER, else $USER.
            let off = try await CLIProcess.run(
                ["failsafe", "off", "--json"], environment: env.merging(["SUDO_USER": nil, "USER": "bo"]) { $1 })
            #expect(off.status == 0, "\(off)")
            #expect(off.stdout.contains("\"changed_by\" : \"bo\""), "\(off)")
            let sudo = try await CLIProcess.run(
                ["failsafe", "off", "--json"], environment: env.merging(["SUDO_USER": "root-ana", "USER": "root"]) { $1 })
            #expect(sudo.stdout.contains("\"changed_by\" : \"root-ana\""), "\(sudo)")
            #expect(try await status(env)["failsafe"] as? Bool == false)

            let sold = try await CLIProcess.run(["sell", id, "--qty", "1", "--approve", "--by", "ana"], environment: env)
            #expect(sold.status == 0, "\(sold)")
            #expect(try await show(id, env)["mode"] as? String == "open")
        }
    }

    @Test func aDaemonSeenInFailsafeClosesTheBoxOffice() async throws {
        try await CLIDatabase.with { database in
            let env = database.environment
            let id = CLIProcess.uniqueID("fsd")
            #expect(try await CLIProcess.run(["event", "create", id, "--name", "D", "--capacity", "100"], environment: env).status == 0)
            // A daemon's own report, as FailsafeSwitchWatch writes it.
            _ = try await database.postgres.query(
                """
                INSERT INTO daemon_instances (id, hostname, pid, failsafe, state, status)
                VALUES ('d-1', 'host-a', 4242, true, 'failsafe', 'FAIL-SAFE: Redis missed 3 consecutive pings')
                """)
            let refused = try await CLIProcess.run(["sell", id, "--qty", "1", "--approve", "--by", "ana"], environment: env)
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.stderr.contains("host-a"), "\(refused)")
            #expect(try await show(id, env)["mode"] as? String == "failsafe")
            let text = try await CLIProcess.run(["failsafe", "status"], environment: env)
            #expect(text.stdout.contains("host-a pid 4242") && text.stdout.contains("failsafe since"), "\(text)")

            // A report older than 10 s is a daemon that is gone.
            _ = try await database.postgres.query("UPDATE daemon_instances SET updated_at = now() - interval '11 seconds'")
            #expect((try await status(env)["instances"] as? [Any])?.isEmpty == true)
            let sold = try await CLIProcess.run(["sell", id, "--qty", "1", "--approve", "--by", "ana"], environment: env)
            #expect(sold.status == 0, "\(sold)")
        }
    }

    @Test func failsafeErrorsExitWithTheirCodes() async throws {
        let noName = try await CLIProcess.run(["failsafe", "on"], environment: ["SUDO_USER": nil, "USER": nil])
        #expect(noName.status == 64, "\(noName)")
        #expect(noName.stderr.contains("--by"), "\(noName)")
        let blank = try await CLIProcess.run(["failsafe", "off", "--by", " "])
        #expect(blank.status == 64, "\(blank)")
        for arguments in [["failsafe", "status"], ["failsafe", "on", "--by", "ana"]] {
            let result = try await CLIProcess.run(
                arguments, environment: ["TRAFFIC_POLICE_POSTGRES_URL": "postgresql://postgres@127.0.0.1:9/x"])
            #expect(result.status == 69, "\(arguments): \(result)")
            #expect(result.stderr.contains("PostgreSQL"), "\(result)")
        }
        // Redis is not needed.
        try await CLIDatabase.with { database in
            let result = try await CLIProcess.run(
                ["failsafe", "status"], environment: database.environment.merging(["TRAFFIC_POLICE_REDIS_URL": "redis://127.0.0.1:9"]) { $1 })
            #expect(result.status == 0, "\(result)")
        }
    }

    private func status(_ env: [String: String?]) async throws -> [String: Any] {
        let result = try await CLIProcess.run(["failsafe", "status", "--json"], environment: env)
        try #require(result.status == 0, "\(result)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    private func show(_ id: String, _ env: [String: String?]) async throws -> [String: Any] {
        let result = try await CLIProcess.run(["event", "show", id, "--json"], environment: env)
        try #require(result.status == 0, "\(result)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }
}

/// A migrated database of its own on the test PostgreSQL server, dropped afterwards.
struct CLIDatabase {
    let url: String
    let postgres: PostgresClient
    /// The CLI's environment for this database.
    var environment: [String: String?] { ["TRAFFIC_POLICE_POSTGRES_URL": url] }

    static func with(_ body: (CLIDatabase) async throws -> Void) async throws {
        let serverURL = try #require(ProcessInfo.processInfo.environment["TRAFFIC_POLICE_POSTGRES_URL"])
        let name = "tp_cli_\(UUID().uuidString.prefix(8).lowercased())"
        let (base, query) = serverURL.firstIndex(of: "?").map { (serverURL[..<$0], serverURL[$0...]) } ?? (serverURL[...], "")
        let slash = try #require(base.lastIndex(of: "/"), "TRAFFIC_POLICE_POSTGRES_URL must be a postgresql:// URL")
        let admin = PostgresClient(configuration: PostgresConfiguration(connectionString: serverURL, poolSize: 1))
        _ = try await admin.query("CREATE DATABASE \(name)")
        let url = String(base[...slash]) + name + query
        let database = CLIDatabase(url: url, postgres: PostgresClient(configuration: .init(connectionString: url, poolSize: 1)))
        var failure: (any Error)?
        do {
            let migrate = try await CLIProcess.run(["migrate"], environment: database.environment)
            try #require(migrate.status == 0, "\(migrate)")
            try await body(database)
        } catch {
            failure = error
        }
        await database.postgres.shutdown()
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.shutdown()
        if let failure { throw failure }
    }
}
