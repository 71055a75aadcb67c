import ArgumentParser
import TrafficPolice

/// `traffic-police status [--json]`: one screen that says whether sales are flowing.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether sales are flowing: daemons, fail-safe switch, queue and every event.",
        discussion: """
            sales: open, CLOSED (fail-safe, with the reason), or NOTHING IS SERVING when no daemon \
            instance has reported to the ledger within the last 10 s.

            fail-safe switch: the operators' switch (`failsafe on|off`): on or off, by whom, when, why.

            daemon instances: each one seen within 10 s, as `failsafe status` shows them: host, pid, \
            Redis watchdog state and since when, how long ago it reported, then its systemd status line.

            queue: webhook deliveries waiting for a worker (depth), being worked (in flight), waiting \
            for a retry, dead letters (see `queue dead-letters`), Eventbrite ones awaiting resolution.

            events: every event with its mode (open, RED ALERT, FAIL-SAFE, closed), tickets sold out \
            of the capacity, and the free stock the box office may sell.

            A part that cannot be read is shown as unknown and the rest is still printed. Exit 0 when \
            everything was read, 69 when Redis or PostgreSQL could not be (each named on stderr), 78 \
            on a bad configuration. --json prints one object with the keys daemons, failsafe_switch, \
            failsafe, serving, freshness_seconds, queue, events and errors (redis, postgres); a part \
            that could not be read is null.
            """)

    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRuntime.run(connection, needsRedis: false) { runtime in
            let report = try await StatusReport.gather(runtime)
            if json { try Output.json(report) } else { report.lines.forEach(Output.line) }
            for error in [report.postgresError, report.redisError].compactMap({ $0 }) { Output.error(error) }
            if report.exitCode != 0 { throw ExitCode(report.exitCode) }
        }
    }
}
