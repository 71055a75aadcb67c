import ArgumentParser

/// `reservation-bench`: load for the reservation path — a demo burst, and the benchmark
/// against `redis-benchmark` running the same script on the same Redis.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reservation-bench",
        abstract: "Drive the reservation path: a demo burst, or a benchmark against redis-benchmark.",
        subcommands: [BurstCommand.self, CompareCommand.self])
}
