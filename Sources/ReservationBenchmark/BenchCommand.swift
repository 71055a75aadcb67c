import ArgumentParser

/// `reservation-bench`: load for the reservation path — a demo burst, the benchmark against
/// `redis-benchmark` running the same script on the same Redis — and for the webhook intake socket.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reservation-bench",
        abstract: "Drive the reservation path (a demo burst, a benchmark against redis-benchmark) or the intake socket.",
        subcommands: [BurstCommand.self, CompareCommand.self, IntakeCommand.self])
}
