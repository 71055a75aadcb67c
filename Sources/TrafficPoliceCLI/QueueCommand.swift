import ArgumentParser
import Foundation
import TrafficPolice

/// `traffic-police queue stats|dead-letters|retry ID`: the delivery queue, for operators.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Inspect the webhook delivery queue and retry its dead letters.",
        subcommands: [Stats.self, DeadLetters.self, Retry.self])

    /// Runs `body` with the queue (default keys), mapping queue errors to the runtime's exit codes.
    static func withQueue(_ connection: ConnectionOptions, _ body: @escaping (DeliveryQueue) async throws -> Void)
        async throws
    {
        try await CommandRuntime.run(connection, needsRedis: true) { runtime in
            try await withQueue(on: runtime, body)
        }
    }

    /// Runs `body` with the queue (default keys) on `runtime`'s Redis; a queue's Redis error is
    /// rethrown as the `RedisError` it wraps (exit 69).
    static func withQueue<Value>(on runtime: CommandRuntime, _ body: (DeliveryQueue) async throws -> Value)
        async throws -> Value
    {
        let queue = DeliveryQueue(redis: runtime.redis)
        do {
            let value = try await body(queue)
            await queue.shutdown()
            return value
        } catch QueueError.redis(let error) {
            await queue.shutdown()
            throw error
        } catch {
            await queue.shutdown()
            throw error
        }
    }

    /// `queue stats [--json]`
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the queue's depth, jobs in flight, delayed retries, dead letters and parked jobs.")

        @Flag(help: "Print one JSON object.") var json = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await QueueCommand.withQueue(connection) { queue in
                let stats = try await queue.stats()
                if json {
                    try Output.json(stats)
                } else {
                    Output.line("depth                \(stats.depth)")
                    Output.line("in flight            \(stats.inFlight)")
                    Output.line("delayed (retrying)   \(stats.delayed)")
                    Output.line("dead letters         \(stats.deadLetters)")
                    Output.line("awaiting resolution  \(stats.awaitingResolution)")
                    Output.line("retries (total)      \(stats.retries)")
                }
            }
        }
    }

    /// `queue dead-letters [--limit N] [--json]`
    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters", abstract: "List the newest dead letters with their last error.")

        @Option(help: "How many to show (newest first).") var limit: Int = 20
        @Flag(help: "Print a JSON array.") var json = false
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            try await QueueCommand.withQueue(connection) { queue in
                let letters = try await queue.deadLetters(limit: limit)
                if json {
                    try Output.json(letters.map(DeadLetterJSON.init))
                } else if letters.isEmpty {
                    Output.line("no dead letters")
                } else {
                    for letter in letters {
                        Output.line(
                            "\(letter.id)  \(letter.delivery.platform.rawValue) \(letter.delivery.kind)  attempts \(letter.attempts)  \(letter.error)")
                    }
                }
            }
        }
    }

    /// `queue retry ID`
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a dead letter back into the queue as a fresh job.",
            discussion: "ID is the dead letter's id as `queue dead-letters` shows it. Exit 1 when there is no such dead letter.")

        @Argument(help: "The dead letter's id.") var id: String
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            let parts = id.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else {
                throw ValidationError("'\(id)' is not a dead letter id (like 1700000000000-0)")
            }
        }

        func run() async throws {
            try await QueueCommand.withQueue(connection) { queue in
                guard let jobID = try await queue.retry(deadLetterID: id) else {
                    throw PolicyRefusal(message: "no dead letter \(id)")
                }
                Output.line("requeued dead letter \(id) as job \(jobID)")
            }
        }
    }
}

/// A dead letter as `queue dead-letters --json` prints it.
private struct DeadLetterJSON: Encodable {
    var id: String
    var job_id: String
    var platform: String
    var kind: String
    var dedupe_key: String
    var attempts: Int
    var error: String
    var failed_at_ms: Int64
    var body: String

    init(_ letter: DeadLetter) {
        id = letter.id
        job_id = letter.originID
        platform = letter.delivery.platform.rawValue
        kind = letter.delivery.kind
        dedupe_key = letter.delivery.dedupeKey
        attempts = letter.attempts
        error = letter.error
        failed_at_ms = letter.failedAtMilliseconds
        body = letter.delivery.body
    }
}
