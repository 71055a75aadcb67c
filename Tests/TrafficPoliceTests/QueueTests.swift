import Foundation
import RedisBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

@Suite struct QueueTests {
    @Test func concurrentDuplicateEnqueuesAddEachKeyOnce() async throws {
        try await TestServers.withRedis(poolSize: 4) { redis in
            try await QueueTesting.withQueue(redis, try QueueTesting.configuration()) { queue in
                let results = try await withThrowingTaskGroup(of: EnqueueResult.self) { group in
                    for index in 0..<64 {
                        group.addTask { try await queue.enqueue(QueueTesting.delivery("key-\(index % 16)")) }
                    }
                    return try await group.reduce(into: [EnqueueResult]()) { $0.append($1) }
                }
                let enqueued = results.filter { if case .enqueued = $0 { true } else { false } }
                #expect(enqueued.count == 16)
                #expect(results.filter { $0 == .duplicate }.count == 48)
                let stats = try await queue.stats()
                #expect(stats.depth == 16)
                #expect(stats.inFlight == 0)
                let jobs = try await queue.nextJobs(consumer: "c", count: 100)
                #expect(Set(jobs.map(\.delivery.dedupeKey)) == Set((0..<16).map { "key-\($0)" }))
                #expect(jobs.allSatisfy { $0.attempt == 1 && $0.deliveries == 1 })
            }
        }
    }

    @Test func aFailedJobIsRetriedThenAcked() async throws {
        try await TestServers.withRedis(poolSize: 2) { redis in
            try await QueueTesting.withQueue(redis, try QueueTesting.configuration()) { queue in
                guard case .enqueued(let jobID) = try await queue.enqueue(QueueTesting.delivery("retry-me")) else {
                    Issue.record("not enqueued")
                    return
                }
                let first = try #require(try await QueueTesting.nextJobs(queue, consumer: "a").first)
                #expect(first.id == jobID && first.attempt == 1)
                let outcome = try await queue.fail(first, error: "PostgreSQL is down")
                guard case .retryScheduled(2, let delay) = outcome else {
                    Issue.record("expected a retry, got \(outcome)")
                    return
                }
                #expect(delay <= .milliseconds(60))
                var stats = try await queue.stats()
                #expect(stats.delayed + stats.depth == 1 && stats.inFlight == 0 && stats.retries == 1)
                let second = try #require(try await QueueTesting.nextJobs(queue, consumer: "b").first)
                #expect(second.attempt == 2)
                #expect(second.originID == jobID)
                #expect(second.lastError == "PostgreSQL is down")
                #expect(second.delivery == first.delivery)
                #expect(try await queue.ack(second))
                #expect(try await queue.ack(second) == false)
                stats = try await queue.stats()
                #expect(stats == QueueStats(depth: 0, inFlight: 0, delayed: 0, deadLetters: 0, retries: 1, awaitingResolution: 0))
                // Acked: the delivery id is still remembered, so a late duplicate is refused.
                #expect(try await queue.enqueue(QueueTesting.delivery("retry-me")) == .duplicate)
            }
        }
    }

    @Test func theLastFailureDeadLettersWithItsErrorAndRetryRequeues() async throws {
        try await TestServers.withRedis(poolSize: 2) { redis in
            try await QueueTesting.withQueue(redis, try QueueTesting.configuration(maxAttempts: 3)) { queue in
                _ = try await queue.enqueue(QueueTesting.delivery("doomed", body: #"{"x":1}"#))
                var outcomes: [DeliveryQueue.FailureOutcome] = []
                for attempt in 1...3 {
                    let job = try #require(try await QueueTesting.nextJobs(queue, consumer: "a").first)
                    #expect(job.attempt == attempt)
                    outcomes.append(try await queue.fail(job, error: "failure \(attempt)"))
                }
                #expect(outcomes.last == .deadLettered)
                #expect(try await queue.nextJobs(consumer: "a", count: 10).isEmpty)
                let letters = try await queue.deadLetters(limit: 10)
                let letter = try #require(letters.first)
                #expect(letters.count == 1)
                #expect(letter.error == "failure 3")
                #expect(letter.attempts == 3)
                #expect(letter.delivery.body == #"{"x":1}"#)
                #expect(letter.failedAtMilliseconds > 0)
                var stats = try await queue.stats()
                #expect(stats.deadLetters == 1 && stats.depth == 0 && stats.inFlight == 0 && stats.retries == 2)

                #expect(try await queue.retry(deadLetterID: "1-0") == nil)
                let requeued = try #require(try await queue.retry(deadLetterID: letter.id))
                stats = try await queue.stats()
                #expect(stats.deadLetters == 0 && stats.depth == 1)
                let again = try #require(try await QueueTesting.nextJobs(queue, consumer: "b").first)
                #expect(again.id == requeued)
                #expect(again.attempt == 1)
                #expect(again.originID == letter.originID)
                #expect(try await queue.ack(again))
            }
        }
    }

    @Test func aJobWhoseWorkerDiedIsTakenOverAfterTheVisibilityTimeout() async throws {
        try await TestServers.withRedis(poolSize: 2) { redis in
            // Long enough that a loaded machine cannot pass it between the two reads below (a CI run
            // once stalled more than 4 s there, with the whole suite on 2 cores).
            let configuration = try QueueTesting.configuration(visibility: .seconds(10))
            try await QueueTesting.withQueue(redis, configuration) { queue in
                _ = try await queue.enqueue(QueueTesting.delivery("orphan"))
                let held = try #require(try await QueueTesting.nextJobs(queue, consumer: "dies").first)
                // Within the visibility timeout no one else gets it.
                #expect(try await queue.nextJobs(consumer: "survivor", count: 10).isEmpty)
                #expect(try await queue.stats().inFlight == 1)
                try await Task.sleep(for: .milliseconds(10_050))
                let taken = try #require(try await QueueTesting.nextJobs(queue, consumer: "survivor").first)
                #expect(taken.id == held.id)
                #expect(taken.deliveries == 2)
                #expect(taken.attempt == 1)
                #expect(try await queue.ack(taken))
                // The dead worker's late ack finds nothing to settle.
                #expect(try await queue.ack(held) == false)
                #expect(try await queue.stats().inFlight == 0)
            }
        }
    }

    @Test func aJobThatKeepsKillingItsWorkerIsDeadLettered() async throws {
        try await TestServers.withRedis(poolSize: 2) { redis in
            let configuration = try QueueTesting.configuration(visibility: .milliseconds(100), maxDeliveries: 2)
            try await QueueTesting.withQueue(redis, configuration) { queue in
                _ = try await queue.enqueue(QueueTesting.delivery("poison"))
                _ = try #require(try await QueueTesting.nextJobs(queue, consumer: "w1").first)
                try await Task.sleep(for: .milliseconds(150))
                _ = try #require(try await QueueTesting.nextJobs(queue, consumer: "w2").first)
                try await Task.sleep(for: .milliseconds(150))
                #expect(try await queue.nextJobs(consumer: "w3", count: 10).isEmpty)
                let letter = try #require(try await queue.deadLetters().first)
                #expect(letter.error.contains("handed out 3 times"))
                #expect(try await queue.stats().inFlight == 0)
            }
        }
    }

    @Test func unreadableEntriesAreDeadLettered() async throws {
        try await TestServers.withRedis(poolSize: 2) { redis in
            try await QueueTesting.withQueue(redis, try QueueTesting.configuration()) { queue in
                _ = try await queue.enqueue(QueueTesting.delivery("fine"))
                _ = try await redis.send(["XADD", queue.keys.stream, "*", "garbage", "1"])
                let jobs = try await QueueTesting.nextJobs(queue, consumer: "a")
                #expect(jobs.map(\.delivery.dedupeKey) == ["fine"])
                let stats = try await queue.stats()
                #expect(stats.deadLetters == 1 && stats.inFlight == 1)
            }
        }
    }

    @Test func aFullQueueRefusesRatherThanTrims() async throws {
        try await TestServers.withRedis(poolSize: 2) { redis in
            var configuration = try QueueTesting.configuration()
            configuration.retention = 2
            try await QueueTesting.withQueue(redis, configuration) { queue in
                _ = try await queue.enqueue(QueueTesting.delivery("one"))
                _ = try await queue.enqueue(QueueTesting.delivery("two"))
                await #expect(throws: QueueError.self) { try await queue.enqueue(QueueTesting.delivery("three")) }
                #expect(try await queue.stats().depth == 2)
                // The refused delivery was not remembered: it can be accepted once there is room.
                let jobs = try await QueueTesting.nextJobs(queue, consumer: "a")
                for job in jobs { try await queue.ack(job) }
                guard case .enqueued = try await queue.enqueue(QueueTesting.delivery("three")) else {
                    Issue.record("not accepted after room was made")
                    return
                }
            }
        }
    }

    @Test func parkedJobsStayVisibleAndCanBeRequeued() async throws {
        try await TestServers.withRedis(poolSize: 2) { redis in
            try await QueueTesting.withQueue(redis, try QueueTesting.configuration()) { queue in
                _ = try await queue.enqueue(QueueTesting.delivery("eb", platform: .eventbrite, kind: "order.placed"))
                let job = try #require(try await QueueTesting.nextJobs(queue, consumer: "a").first)
                #expect(try await queue.park(job, reason: "awaiting the resolver"))
                var stats = try await queue.stats()
                #expect(stats.awaitingResolution == 1 && stats.depth == 0 && stats.inFlight == 0 && stats.deadLetters == 0)
                #expect(try await queue.parkedJobs().map(\.delivery.dedupeKey) == ["eb"])
                #expect(try await queue.requeueParked(limit: 10).count == 1)
                stats = try await queue.stats()
                #expect(stats.awaitingResolution == 0 && stats.depth == 1)
            }
        }
    }
}
