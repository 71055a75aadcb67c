import ArgumentParser
import TrafficPolice

/// `traffic-police migrate`: applies the ledger's schema migrations (idempotent).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the ledger's PostgreSQL schema migrations (safe to run again).")

    @Flag(help: "Print {\"applied\": [versions applied now], \"version\": the schema's version}.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRuntime.run(connection, needsRedis: false) { runtime in
            let applied = try await runtime.ledger.migrate()
            if json {
                try Output.json(MigrateOutput(applied: applied, version: LedgerMigrations.all.map(\.version).max() ?? 0))
            } else if applied.isEmpty {
                Output.line("ledger schema is up to date")
            } else {
                Output.line("applied migrations: \(applied.map(String.init).joined(separator: ", "))")
            }
        }
    }
}

/// `migrate --json`.
struct MigrateOutput: Encodable {
    /// The versions this run applied, in order (empty when the schema was up to date).
    var applied: [Int]
    /// The schema's version now.
    var version: Int
}
