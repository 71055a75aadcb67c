import Foundation
import Logging
import RedisBridge
import ServiceLifecycle
import Testing
import TrafficPolice
import TrafficPoliceCore

/// Queues with their own keys and short times, so tests run side by side and stay bounded.
enum QueueTesting {
    static func configuration(
        maxAttempts: Int = 3, visibility: Duration = .milliseconds(400), maxDeliveries: Int = 10
    ) throws -> DeliveryQueue.Configuration {
        var configuration = DeliveryQueue.Configuration()
        configuration.keyPrefix = "tp:{queue-test-\(UUID().uuidString.lowercased())}"
        configuration.dedupeTTL = .seconds(120)
        configuration.blockTime = .milliseconds(50)
        configuration.visibilityTimeout = visibility
        configuration.maxDeliveries = maxDeliveries
        configuration.retry = try RetrySchedule(
            base: .milliseconds(20), cap: .milliseconds(60), maxAttempts: maxAttempts, jitter: .full)
        configuration.randomSeed = 42
        return configuration
    }

    static func delivery(
        _ key: String, platform: Platform = .luma, kind: String = "guest.registered", body: String = "{}"
    ) -> WebhookDelivery {
        WebhookDelivery(
            platform: platform, dedupeKey: key, kind: kind, body: body,
            receivedAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// Runs `body` with a fresh queue on `redis`, deleting its keys afterwards.
    static func withQueue<T>(
        _ redis: RedisClient, _ configuration: DeliveryQueue.Configuration,
        _ body: (DeliveryQueue) async throws -> T
    ) async throws -> T {
        let queue = DeliveryQueue(redis: redis, configuration: configuration)
        do {
            let result = try await body(queue)
            await cleanup(queue, redis)
            return result
        } catch {
            await cleanup(queue, redis)
            throw error
        }
    }

    private static func cleanup(_ queue: DeliveryQueue, _ redis: RedisClient) async {
        let keys = queue.keys
        _ = try? await redis.send(["DEL", keys.stream, keys.delayed, keys.dead, keys.parked, keys.retries])
        if let reply = try? await redis.send(["KEYS", "\(keys.prefix):dedupe:*"]), let names = reply.array?.compactMap(\.string),
            !names.isEmpty
        {
            _ = try? await redis.send(["DEL"] + names)
        }
        await queue.shutdown()
    }

    /// Polls `nextJobs` until it returns something or `timeout` passes.
    static func nextJobs(
        _ queue: DeliveryQueue, consumer: String, count: Int = 10, timeout: Duration = .seconds(5)
    ) async throws -> [QueueJob] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let jobs = try await queue.nextJobs(consumer: consumer, count: count)
            if !jobs.isEmpty { return jobs }
        }
        return []
    }

    /// Waits (bounded) until `condition` holds; returns whether it did.
    static func eventually(
        timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return try await condition()
    }

    /// Runs workers in a service group until `condition` holds (bounded), then shuts them down gracefully.
    static func runWorkers(
        _ queue: DeliveryQueue, handler: any DeliveryHandler, concurrency: Int = 4, timeout: Duration = .seconds(10),
        until condition: @escaping @Sendable () async throws -> Bool
    ) async throws -> Bool {
        var configuration = QueueWorkers.Configuration()
        configuration.concurrency = concurrency
        configuration.consumerName = "test-\(UUID().uuidString.prefix(8))"
        configuration.errorBackoff = .milliseconds(50)
        let workers = QueueWorkers(queue: queue, handler: handler, configuration: configuration)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: workers)], logger: Logger(label: "queue-test")))
        let running = Task { try await group.run() }
        let met = try await eventually(timeout: timeout, condition)
        await group.triggerGracefulShutdown()
        try await running.value
        return met
    }
}
