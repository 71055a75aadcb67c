import Foundation
import RedisBridge
import Synchronization
import Testing
import TrafficPolice
import TrafficPoliceCore

/// A private `redis-server` child (no persistence) that a test may kill and restart.
final class QueueRedisChild: @unchecked Sendable {
    private(set) var port = 0
    private var process: Process?

    init() async throws {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let candidate = Int.random(in: 30_000...60_000)
            do {
                self.port = candidate
                try await start()
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? QueueChildError("could not start redis-server")
    }

    deinit { stop() }

    var configuration: RedisConfiguration {
        var configuration = RedisConfiguration()
        configuration.port = port
        configuration.poolSize = 2
        configuration.connectTimeout = .milliseconds(300)
        configuration.commandTimeout = .seconds(1)
        return configuration
    }

    func start() async throws {
        stop()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", NSTemporaryDirectory(),
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let probe = RedisClient(configuration: configuration)
        defer { Task { await probe.shutdown() } }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { break }
            if (try? await probe.send("PING")) != nil { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        stop()
        throw QueueChildError("redis-server on port \(port) did not start")
    }

    /// SIGSTOP: the server keeps its socket open but answers nothing (a hung Redis).
    func pause() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGSTOP) }
    }

    /// SIGCONT after ``pause()``.
    func resume() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGCONT) }
    }

    /// SIGKILL, and wait for the exit.
    func stop() {
        guard let process else { return }
        self.process = nil
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

struct QueueChildError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite struct QueueRedisRestartTests {
    /// Redis dies and comes back empty (its consumer group gone): the workers ride it out, recreate
    /// the group and apply what is enqueued afterwards.
    @Test func workersCarryOnAfterRedisIsKilledAndRestarted() async throws {
        let server = try await QueueRedisChild()
        let redis = RedisClient(configuration: server.configuration)
        let configuration = try QueueTesting.configuration()
        let queue = DeliveryQueue(redis: redis, configuration: configuration)
        let handler = CountingHandler()
        var workerConfiguration = QueueWorkers.Configuration()
        workerConfiguration.consumerName = "restart-test"
        workerConfiguration.errorBackoff = .milliseconds(50)
        let workers = QueueWorkers(queue: queue, handler: handler, configuration: workerConfiguration)
        let running = Task { try await workers.run() }

        for index in 0..<3 { _ = try await queue.enqueue(QueueTesting.delivery("before-\(index)")) }
        #expect(try await QueueTesting.eventually { handler.keys.count == 3 })

        server.stop()
        await #expect(throws: QueueError.self) { try await queue.enqueue(QueueTesting.delivery("while-down")) }
        try await Task.sleep(for: .milliseconds(200))
        try await server.start()

        let accepted = try await QueueTesting.eventually {
            (try? await queue.enqueue(QueueTesting.delivery("after"))) != nil
        }
        #expect(accepted)
        #expect(try await QueueTesting.eventually { handler.keys.contains("after") })
        #expect(try await QueueTesting.eventually { try await queue.stats().inFlight == 0 })

        running.cancel()
        _ = try? await running.value
        await queue.shutdown()
        await redis.shutdown()
        server.stop()
    }
}

/// Records the dedupe key of every delivery it applies.
final class CountingHandler: DeliveryHandler {
    private let seen = Mutex<Set<String>>([])
    var keys: Set<String> { seen.withLock { $0 } }

    func handle(_ delivery: WebhookDelivery) async throws -> JobOutcome {
        _ = seen.withLock { $0.insert(delivery.dedupeKey) }
        return .applied("counted")
    }
}
