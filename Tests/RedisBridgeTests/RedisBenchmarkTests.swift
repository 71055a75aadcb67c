import Foundation
import RedisBridge
import Testing

/// Compares EVALSHA throughput with `redis-benchmark` on a private server.
/// Opt-in (it is slow and only meaningful in release builds): set TRAFFIC_POLICE_REDIS_BENCH=1.
@Suite(
    "EVALSHA throughput versus redis-benchmark",
    .enabled(if: ProcessInfo.processInfo.environment["TRAFFIC_POLICE_REDIS_BENCH"] == "1"),
    .serialized,
    .timeLimit(.minutes(3))
)
struct RedisBenchmarkTests {
    static let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    static let concurrency = 64
    static let requests = 300_000

    /// Runs `redis-benchmark` and returns its requests per second.
    static func redisBenchmark(port: Int, sha: String, pipeline: Int) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-benchmark")
        process.arguments = [
            "-h", "127.0.0.1", "-p", String(port), "-c", String(concurrency), "-P", String(pipeline),
            "-n", String(requests), "--csv", "evalsha", sha, "1", "bench-key", "1",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        // "test","rps",... then "evalsha ...","123456.78",...
        for line in text.split(separator: "\n") where !line.hasPrefix("\"test\"") {
            let fields = line.split(separator: ",")
            if fields.count > 1, let rps = Double(fields[1].replacingOccurrences(of: "\"", with: "")) {
                return rps
            }
        }
        throw TestSetupError(description: "could not parse redis-benchmark output: \(text)")
    }

    @Test(arguments: [1, 16])
    func evalSHAThroughput(pipeline: Int) async throws {
        let server = try await RedisServerProcess()
        defer { server.stop() }
        var configuration = server.configuration
        configuration.poolSize = Int(ProcessInfo.processInfo.environment["TRAFFIC_POLICE_REDIS_BENCH_POOL"] ?? "") ?? 4
        try await withClient(configuration) { client in
            let sha = try await client.sha1(of: Self.script)
            let reference = try Self.redisBenchmark(port: server.port, sha: sha, pipeline: pipeline)

            let perTask = Self.requests / Self.concurrency / pipeline
            let calls = Array(repeating: (keys: ["bench-key"], arguments: ["1"]), count: pipeline)
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<Self.concurrency {
                    group.addTask {
                        for _ in 0..<perTask {
                            if pipeline == 1 {
                                _ = try await client.evalSHA(Self.script, keys: ["bench-key"], arguments: ["1"])
                            } else {
                                _ = try await client.evalSHAPipeline(Self.script, calls: calls)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            let rate = Double(perTask * pipeline * Self.concurrency) / seconds
            let ratio = rate / reference
            print(
                "EVALSHA -c \(Self.concurrency) -P \(pipeline) pool \(configuration.poolSize): bridge \(Int(rate))/s, "
                    + "redis-benchmark \(Int(reference))/s, ratio \((ratio * 100).rounded() / 100)"
            )
            #expect(ratio >= 0.8)
        }
    }
}
