import ArgumentParser
import TrafficPolice

/// `traffic-police migrate`: applies the ledger's schema migrations (idempotent).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the ledger's PostgreSQL schema migrations (safe to run again).")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRuntime.run(connection, needsRedis: false) { runtime in
            let applied = try await runtime.ledger.migrate()
            if applied.isEmpty {
                Output.line("ledger schema is up to date")
            } else {
                Output.line("applied migrations: \(applied.map(String.init).joined(separator: ", "))")
            }
        }
    }
}
