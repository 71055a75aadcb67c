import ArgumentParser
import Foundation
import TrafficPolice
import TrafficPoliceCore

/// `traffic-police failsafe on|off|status`: the operator's fail-safe switch, kept in PostgreSQL
/// (Redis may be what is down) and followed by every daemon instance.
struct FailsafeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failsafe",
        abstract: "Turn the fail-safe on or off by hand, or show it on every daemon instance.",
        discussion: """
            While the switch is on, every daemon instance (and one started later) stays in fail-safe:
            every listing stops selling, webhooks are spooled, no box-office sale is allowed. Only
            `failsafe off` ends it; a daemon then rebuilds from the ledger before sales reopen.
            Works while Redis is down; exits 69 when PostgreSQL is unreachable.
            """,
        subcommands: [On.self, Off.self, Status.self])

    /// `--by` and `--reason` of `on` and `off`.
    struct Change: ParsableArguments {
        @Option(help: ArgumentHelp("Who changes the switch (default: $SUDO_USER, else $USER).", valueName: "name"))
        var by: String?
        @Option(help: ArgumentHelp("Why (recorded with the switch).", valueName: "text")) var reason: String?
        @Flag(help: "Print the switch as JSON.") var json = false

        func validate() throws { _ = try operatorName() }

        /// `--by`, else `$SUDO_USER`, else `$USER`, trimmed; a usage error when none names anyone.
        func operatorName() throws -> String {
            let environment = ProcessInfo.processInfo.environment
            let fallback = [environment["SUDO_USER"], environment["USER"]]
                .compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }.first { !$0.isEmpty }
            let name = (by ?? fallback ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty else { throw ValidationError("--by must name the operator (no $SUDO_USER or $USER)") }
            return name
        }

        func set(_ on: Bool, _ connection: ConnectionOptions) async throws {
            let name = try operatorName()
            let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
            try await CommandRuntime.run(connection, needsRedis: false) { runtime in
                let now = try await runtime.ledger.setFailsafeSwitch(
                    on: on, by: name, reason: reason?.isEmpty == false ? reason : nil)
                if json {
                    try Output.json(now)
                } else if on {
                    Output.line("fail-safe switch ON (by \(name)): every daemon applies it within about a second")
                    Output.line("sales stay closed until `traffic-police failsafe off`")
                } else {
                    Output.line("fail-safe switch OFF (by \(name)): every daemon applies it within about a second")
                    Output.line("sales reopen once a daemon has rebuilt from the ledger and Redis answers")
                }
            }
        }
    }

    struct On: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn the fail-safe on, on every daemon instance, until turned off by hand.")
        @OptionGroup var change: Change
        @OptionGroup var connection: ConnectionOptions

        func run() async throws { try await change.set(true, connection) }
    }

    struct Off: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn the manual fail-safe off (a daemon whose Redis is down stays in fail-safe).")
        @OptionGroup var change: Change
        @OptionGroup var connection: ConnectionOptions

        func run() async throws { try await change.set(false, connection) }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the switch and every daemon instance seen within the last 10 s.")
        @Flag(help: "Print one JSON object: switch, instances, failsafe.") var json = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await CommandRuntime.run(connection, needsRedis: false) { runtime in
                let overview = try await runtime.ledger.failsafeOverview()
                if json { try Output.json(overview) } else { Self.print(overview) }
            }
        }

        static func print(_ overview: FailsafeOverview) {
            Output.line(FailsafeText.switchLine(overview.failsafeSwitch))
            Output.line("sales: \(overview.failsafe ? "closed (fail-safe)" : "open")")
            FailsafeText.instanceLines(overview.instances).forEach(Output.line)
        }
    }
}

/// The plain-text form of the switch and the daemon instances (`failsafe status`, `status`).
enum FailsafeText {
    /// `fail-safe switch: ON (set by NAME at TIME): REASON`
    static func switchLine(_ failsafeSwitch: FailsafeSwitch) -> String {
        var line = "fail-safe switch: \(failsafeSwitch.on ? "ON" : "off")"
        if let by = failsafeSwitch.changedBy { line += " (set by \(by) at \(failsafeSwitch.changedAt ?? "?"))" }
        if let reason = failsafeSwitch.reason { line += ": \(reason)" }
        return line
    }

    /// A heading and two lines per instance (state, then its status line), or one line saying none was seen.
    static func instanceLines(_ instances: [DaemonInstanceReport]) -> [String] {
        let seconds = Int(FailsafeOverview.freshness.components.seconds)
        guard !instances.isEmpty else { return ["no daemon instance seen within the last \(seconds) s"] }
        return ["daemon instances seen within the last \(seconds) s:"]
            + instances.flatMap { instance in
                [
                    "  \(instance.hostname) pid \(instance.pid) (\(instance.id)): \(instance.state)"
                        + " since \(instance.stateSince ?? "?"), seen \(instance.ageMs.map { "\($0) ms" } ?? "?") ago",
                    "    \(instance.status)",
                ]
            }
    }
}
