import ArgumentParser
import Foundation
import RedisBridge
import Synchronization
import TrafficPolice
import TrafficPoliceCore

/// `reservation-bench compare`: the reservation script through the Swift bridge against
/// `redis-benchmark` running EVALSHA of the same script, at the same concurrency and
/// pipelining, on the same Redis, in the same run. Prints both rates and their ratio.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Benchmark the reservation path against redis-benchmark (release build).")

    @Option(help: "Redis host.") var host: String = "127.0.0.1"
    @Option(help: "Redis port.") var port: Int = 6379
    @Option(help: "Connections (redis-benchmark -c).") var concurrency: Int = 8
    @Option(help: "Commands in flight per connection (redis-benchmark -P).") var pipeline: Int = 16
    @Option(help: "Reservations per measured run.") var requests: Int = 200_000
    @Option(help: "Alternating runs of each side; the best of each is compared.") var rounds: Int = 3
    @Option(name: .customLong("redis-benchmark"), help: "Path of redis-benchmark.") var redisBenchmark: String = "/usr/bin/redis-benchmark"

    func run() async throws {
        var configuration = RedisConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.poolSize = concurrency
        configuration.commandTimeout = .seconds(30)
        let redis = RedisClient(configuration: configuration)
        let reservations = RedisReservations(redis: redis)
        let event = try EventID("bench-reservations")
        let policy = try CapacityPolicy(capacity: CapacityPolicy.maximumCapacity)
        let sha = try await redis.sha1(of: ReservationScripts.reserve)

        var swiftRates: [Double] = []
        var peerRates: [Double] = []
        for round in 1...rounds {
            // Each round starts from a fresh event so both sides insert new orders into a hash of the same size.
            try await reservations.load(EventStock(policy: policy), event: event)
            swiftRates.append(try await swiftRun(redis: redis, event: event, round: round))
            try await reservations.load(EventStock(policy: policy), event: event)
            peerRates.append(try await peerRun(sha: sha, event: event))
            print(String(format: "round %d: swift bridge %.0f/s, redis-benchmark %.0f/s", round, swiftRates.last ?? 0, peerRates.last ?? 0))
        }
        _ = try await redis.send(["DEL"] + EventKeys(event).all)
        await redis.shutdown()

        let swiftBest = swiftRates.max() ?? 0
        let peerBest = peerRates.max() ?? 0
        let ratio = peerBest > 0 ? swiftBest / peerBest : 0
        print("")
        print("reservation EVALSHA, \(concurrency) connections, pipeline \(pipeline), \(requests) per run, best of \(rounds)")
        print(String(format: "  swift bridge:    %10.0f reservations/s", swiftBest))
        print(String(format: "  redis-benchmark: %10.0f reservations/s", peerBest))
        print(String(format: "  ratio:           %10.2f (target ≥ 0.80)", ratio))
    }

    /// `concurrency` tasks, each sending batches of `pipeline` reservations and waiting for the replies.
    private func swiftRun(redis: RedisClient, event: EventID, round: Int) async throws -> Double {
        let keys = EventKeys(event).all
        let remaining = Locked(requests)
        let failures = Locked(0)
        let pipeline = self.pipeline
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<self.concurrency {
                group.addTask {
                    var sequence = 0
                    while true {
                        let batch = remaining.withLock { left -> Int in
                            let take = min(left, pipeline)
                            left -= take
                            return take
                        }
                        if batch == 0 { return }
                        let calls = (0..<batch).map { _ -> (keys: [String], arguments: [String]) in
                            sequence += 1
                            return (keys, ["eventbrite", "r\(round)-w\(worker)-\(sequence)", "1"])
                        }
                        let replies = try await redis.evalSHAPipeline(ReservationScripts.reserve, calls: calls)
                        let bad = replies.filter { $0.array?.first?.integer != 1 }.count
                        if bad > 0 { failures.withLock { $0 += bad } }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = Self.seconds(ContinuousClock.now - start)
        let failed = failures.value
        if failed > 0 { throw ValidationError("\(failed) reservations were not accepted in the Swift run") }
        return Double(requests) / seconds
    }

    /// The same script via redis-benchmark; `__rand_int__` makes each order id new (as on the Swift side).
    private func peerRun(sha: String, event: EventID) async throws -> Double {
        let keys = EventKeys(event).all
        let process = Process()
        process.executableURL = URL(fileURLWithPath: redisBenchmark)
        process.arguments =
            ["-h", host, "-p", String(port), "-c", String(concurrency), "-P", String(pipeline), "-n", String(requests),
             "-r", "1000000000", "--csv", "EVALSHA", sha, String(keys.count)] + keys + ["eventbrite", "o:__rand_int__", "1"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Blocking reads get a thread of their own, off Swift's cooperative pool.
        let data: Data = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: data)
            }
        }
        guard process.terminationStatus == 0 else {
            throw ValidationError("redis-benchmark exited \(process.terminationStatus)")
        }
        // CSV: "test","rps",... — the second field of the last line is the rate.
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("\"EVALSHA") }),
            let rate = Double(line.split(separator: ",")[1].replacingOccurrences(of: "\"", with: ""))
        else {
            throw ValidationError("cannot read redis-benchmark's output: \(text)")
        }
        return rate
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
