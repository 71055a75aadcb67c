import ArgumentParser
import Foundation
import Logging
import TrafficPolice
import TrafficPoliceCore

/// `traffic-police reconcile [--event ID] [--dry-run] [--json]`: the nightly reconciliation.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare every platform's orders with the ledger and fix the drift (missed sales, refunds, cancellations).",
        discussion: """
            Reads every order, guest and RSVP of each linked platform (throttled, in the reconciliation
            lane), compares them with the ledger and, unless --dry-run, applies each drifting order's
            current state as the queue workers do. Each event is worked on under its rebalancing lock,
            and recorded in the ledger's reconciliations table. Platform credentials come from
            $CREDENTIALS_DIRECTORY, as for `serve`.
            Exit codes: 0 the ledger agrees with the platforms (no drift, or drift found and fixed);
            3 drift found under --dry-run (or left that needs an operator: orders a platform no longer
            lists, states it does not know); 69 a platform, Redis or PostgreSQL could not be read;
            1 no such event; 78 bad configuration.
            """)

    @Option(help: "Reconcile only this event (default: every event with a linked platform that is not closed).")
    var event: String?
    @Flag(name: .customLong("dry-run"), help: "Report the drift; change nothing.") var dryRun = false
    @Flag(help: "Print the run as one JSON object.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        if let event {
            do {
                _ = try EventID(event)
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    func run() async throws {
        let eventID = try event.map { try EventID($0) }
        let environment = ProcessInfo.processInfo.environment
        try await CommandRuntime.run(connection) { runtime in
            let credentials = try Credentials.load(environment: environment)
            // Under systemd the per-event summaries go to journald; on a terminal only warnings
            // join the printed summary.
            let journal = LoggingBootstrap.isJournalConnected
            LoggingBootstrap.bootstrap(level: journal ? runtime.configuration.log.level : .warning)
            let logger = Logger(label: "traffic-police.reconcile")
            credentials.availability.logWarnings(to: logger)
            let run = try await Reconciler.withStandalone(
                configuration: runtime.configuration, credentials: credentials, desk: runtime.desk,
                redis: runtime.redis, logger: logger
            ) { reconciler in
                try await reconciler.reconcile(event: eventID, dryRun: dryRun)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                Output.line(String(decoding: try encoder.encode(ReconcileReport(run: run)), as: UTF8.self))
            } else {
                for line in ReconcileReport(run: run).lines { Output.line(line) }
            }
            let code = run.exitCode(dryRun: dryRun)
            if code != 0 { throw ExitCode(code) }
        }
    }
}

/// The printed form of a run: the run itself plus `agrees` and `exit_code` for scripts.
struct ReconcileReport: Encodable {
    var run: ReconcileRun

    enum CodingKeys: String, CodingKey {
        case agrees, exitCode = "exit_code"
    }

    func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(run.agrees, forKey: .agrees)
        try container.encode(run.exitCode(dryRun: run.dryRun), forKey: .exitCode)
    }

    /// One line per event and platform, then the verdict.
    var lines: [String] {
        var lines: [String] = []
        let mode = run.dryRun ? " (dry run: nothing changed)" : ""
        if run.events.isEmpty { lines.append("no event to reconcile") }
        for event in run.events {
            var head = "\(event.event): \(event.outcome.rawValue)"
            if let failure = event.failure { head += ": \(failure)" }
            lines.append(head)
            for platform in event.platforms {
                let name = "  \(platform.platform.rawValue) \(platform.platformEventID)"
                if let why = platform.unreadable {
                    lines.append("\(name): unreadable: \(why)")
                    continue
                }
                var counts: [String: Int] = [:]
                for drift in platform.drift { counts[drift.kind.rawValue, default: 0] += 1 }
                let kinds = counts.keys.sorted().map { "\(counts[$0] ?? 0) \($0)" }.joined(separator: ", ")
                var line = "\(name): \(platform.ordersRead) read, \(platform.drift.count) drift"
                if !kinds.isEmpty { line += " (\(kinds))" }
                if !run.dryRun { line += ", \(platform.fixed) fixed" }
                if !platform.remaining.isEmpty && !run.dryRun { line += ", \(platform.remaining.count) left" }
                if platform.overbooked > 0 { line += ", \(platform.overbooked) overbooked" }
                lines.append(line)
                for drift in platform.remaining.prefix(20) {
                    let asked = drift.platformQuantity.map(String.init) ?? "?"
                    lines.append(
                        "    \(drift.orderID): \(drift.kind.rawValue) (platform \(drift.platformStatus) × \(asked), "
                            + "ledger holds \(drift.ledgerQuantity))")
                }
            }
        }
        let verdict =
            run.incomplete
            ? "not every platform could be read" : run.agrees ? "the ledger agrees with the platforms" : "drift left"
        lines.append(verdict + mode)
        return lines
    }
}
