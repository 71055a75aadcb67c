import ArgumentParser

/// `traffic-police`: the daemon and the operator's commands (DESIGN.md section 6).
@main
struct TrafficPoliceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic-police",
        abstract: "Sells one event on Eventbrite, Luma and Meetup at once without ever overselling.",
        discussion: """
            Exit codes: 0 ok, 1 refused (by policy, or an unknown or existing event), 64 usage,
            69 a dependency (Redis, PostgreSQL) unreachable, 78 bad configuration.
            """,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, EventCommand.self, SellCommand.self, FailsafeCommand.self,
            QueueCommand.self, ReconcileCommand.self, StatusCommand.self,
        ]
    )
}

/// Options every command that talks to Redis or PostgreSQL takes.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Path of traffic-police.toml (default: $TRAFFIC_POLICE_CONFIG, else /etc/traffic-police/traffic-police.toml if present).",
            valueName: "path"))
    var config: String?
}
