import Foundation
import Logging
import RedisBridge
import Synchronization
import TrafficPoliceCore

/// The durable job queue on Redis Streams (DESIGN.md section 4): at-least-once, deduplicated by
/// delivery id, retried with exponential backoff and jitter, dead-lettered after the last attempt,
/// and jobs held by a dead worker are taken over after the visibility timeout.
///
/// Every move of a job (enqueue, promote a due retry, ack, retry, dead-letter, park, requeue) is one
/// Lua step, so a job is always in exactly one place. Blocking reads use a connection of their own
/// so they never hold up other commands. Call ``shutdown()`` when done.
public final class DeliveryQueue: DeliverySink, Sendable {
    public let configuration: Configuration
    public let keys: QueueKeys
    private let redis: RedisClient
    /// One connection for XREADGROUP BLOCK, with a timeout longer than the block.
    private let blocking: RedisClient
    private let generator: Mutex<SplitMix64>
    private let metrics = QueueMetrics()
    private let logger: Logger

    /// A queue on `redis` (used for every non-blocking command; it is not shut down by the queue).
    public init(redis: RedisClient, configuration: Configuration = .init(), logger: Logger? = nil) {
        self.configuration = configuration
        self.keys = configuration.keys
        self.redis = redis
        var blockingConfiguration = redis.configuration
        blockingConfiguration.poolSize = 1
        blockingConfiguration.commandTimeout = redis.configuration.commandTimeout + configuration.blockTime
        self.blocking = RedisClient(configuration: blockingConfiguration)
        self.generator = Mutex(SplitMix64(seed: configuration.randomSeed ?? UInt64.random(in: .min ... .max)))
        self.logger = logger ?? Logger(label: "traffic-police.queue")
    }

    /// Closes the queue's own blocking connection (not the client it was given).
    public func shutdown() async {
        await blocking.shutdown()
    }

    // MARK: - Intake side

    /// Adds the delivery unless one with the same dedupe key was accepted within `dedupeTTL`.
    /// Returns only after Redis has the job, so intake may answer 202.
    public func enqueue(_ delivery: WebhookDelivery) async throws -> EnqueueResult {
        let arguments = [String(max(1, configuration.dedupeTTL.components.seconds)), String(configuration.retention)]
            + JobFields.encode(delivery)
        let reply: RedisReply
        do {
            reply = try await redis.evalSHA(
                QueueScripts.enqueue, keys: [keys.stream, keys.dedupe(delivery.dedupeKey)], arguments: arguments)
        } catch let error as RedisError where error.kind == .serverError && error.message.hasPrefix("QUEUEFULL") {
            throw QueueError.full(String(error.message.dropFirst("QUEUEFULL ".count)))
        } catch let error as RedisError {
            throw QueueError.redis(error)
        }
        guard let items = reply.array, items.count == 2, let added = items[0].integer, let id = items[1].string else {
            throw QueueError.unexpectedReply("\(reply)")
        }
        if added == 1 {
            metrics.enqueued.increment()
            return .enqueued(jobID: id)
        }
        metrics.duplicates.increment()
        return .duplicate
    }

    // MARK: - Worker side

    /// Up to `count` jobs for `consumer`: first due retries are moved back into the stream and jobs
    /// whose holder died are taken over, then new jobs are read (waiting up to `blockTime` when none).
    /// A job handed out more than `maxDeliveries` times, or whose fields cannot be read, goes to the
    /// dead letters instead of being returned.
    public func nextJobs(consumer: String, count: Int) async throws -> [QueueJob] {
        guard count > 0 else { return [] }
        var jobs = try await reclaim(consumer: consumer, count: count)
        if jobs.count < count {
            jobs += try await readNew(consumer: consumer, count: count - jobs.count, block: jobs.isEmpty)
        }
        return jobs
    }

    /// Acknowledges a job that was applied: it leaves the queue. False when it was no longer held
    /// (another consumer took it over and settled it).
    @discardableResult
    public func ack(_ job: QueueJob) async throws -> Bool {
        try await settle(job, mode: "ack", target: keys.stream)
    }

    /// What `fail` did with a job.
    public enum FailureOutcome: Sendable, Hashable {
        /// Attempt `nextAttempt` will run after `delay`.
        case retryScheduled(nextAttempt: Int, delay: Duration)
        /// The last attempt failed (or the job can never succeed): it is in the dead letters.
        case deadLettered
        /// The job was no longer held by the group (settled by another consumer): nothing changed.
        case notHeld
    }

    /// A transient failure: retries the job after a backoff (``RetrySchedule``), or dead-letters it
    /// with `error` after its last attempt. The attempt count travels in the job's fields.
    @discardableResult
    public func fail(_ job: QueueJob, error: String) async throws -> FailureOutcome {
        var machine = JobStateMachine(
            inFlightAttempt: job.attempt, consumer: "", deliveries: job.deliveries, previousDelay: job.previousDelay)
        let action = generator.withLock { generator in
            machine.failed(error, schedule: configuration.retry, using: &generator)
        }
        return try await perform(action, job: job, error: error)
    }

    /// A permanent failure (a malformed payload): dead-letters the job now with `reason`.
    @discardableResult
    public func reject(_ job: QueueJob, reason: String) async throws -> FailureOutcome {
        var machine = JobStateMachine(inFlightAttempt: job.attempt, consumer: "", deliveries: job.deliveries)
        return try await perform(machine.rejected(reason), job: job)
    }

    /// Sets a job aside in the `pending-resolution` stream (no attempt spent, never dead-lettered),
    /// until ``requeueParked(limit:)`` puts it back. False when it was no longer held.
    @discardableResult
    public func park(_ job: QueueJob, reason: String) async throws -> Bool {
        try await settle(job, mode: "move", target: keys.parked, overrides: ["reason", reason, JobFields.origin, job.originID])
    }

    /// Removes `consumer` from the group if it holds no job (called when a worker pool stops), so
    /// consumer names of past daemons do not pile up. Returns whether it was removed.
    @discardableResult
    public func retireConsumer(_ consumer: String) async throws -> Bool {
        let reply = try await withGroup {
            try await self.redis.evalSHA(
                QueueScripts.retireConsumer, keys: [self.keys.stream], arguments: [self.configuration.group, consumer])
        }
        return reply.integer == 1
    }

    // MARK: - Operator side

    /// The queue's figures now; also updates the gauges.
    public func stats() async throws -> QueueStats {
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline([
                ["XLEN", keys.stream],
                ["XPENDING", keys.stream, configuration.group],
                ["ZCARD", keys.delayed],
                ["XLEN", keys.dead],
                ["GET", keys.retries],
                ["XLEN", keys.parked],
            ])
        } catch let error as RedisError {
            throw QueueError.redis(error)
        }
        guard replies.count == 6 else { throw QueueError.unexpectedReply("\(replies)") }
        if case .error(let message) = replies[0] { throw QueueError.redis(RedisError(kind: .serverError, message: message)) }
        // NOGROUP before any worker started: nothing is in flight.
        let pending = replies[1].array?.first?.integer ?? 0
        let length = replies[0].integer ?? 0
        let stats = QueueStats(
            depth: Int(max(0, length - pending)), inFlight: Int(pending), delayed: Int(replies[2].integer ?? 0),
            deadLetters: Int(replies[3].integer ?? 0), retries: Int(replies[4].integer ?? 0),
            awaitingResolution: Int(replies[5].integer ?? 0))
        metrics.record(stats)
        return stats
    }

    /// The newest dead letters first, at most `limit`.
    public func deadLetters(limit: Int = 100) async throws -> [DeadLetter] {
        let reply = try await command(["XREVRANGE", keys.dead, "+", "-", "COUNT", String(max(1, limit))])
        return try entries(reply).compactMap { id, fields in
            JobFields.deadLetter(id: id, fields: fields)
        }
    }

    /// Puts a dead letter back into the queue as a fresh job (attempt 1); returns its new job id,
    /// or nil when there is no such dead letter.
    public func retry(deadLetterID: String) async throws -> String? {
        try await requeue(from: keys.dead, selector: ["id", deadLetterID]).first
    }

    /// Moves up to `limit` parked jobs (oldest first) back into the queue; returns their new job ids.
    public func requeueParked(limit: Int) async throws -> [String] {
        try await requeue(from: keys.parked, selector: ["first", String(max(1, limit))])
    }

    /// Moves the parked jobs with these stream ids back into the queue (ids no longer parked are
    /// skipped); returns their new job ids.
    public func requeueParked(ids: [String]) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        return try await requeue(from: keys.parked, selector: ["id"] + ids)
    }

    /// The parked jobs, oldest first, at most `limit` (their stream ids and deliveries).
    public func parkedJobs(limit: Int = 100) async throws -> [(id: String, delivery: WebhookDelivery)] {
        let reply = try await command(["XRANGE", keys.parked, "-", "+", "COUNT", String(max(1, limit))])
        return try entries(reply).compactMap { id, fields in
            JobFields.delivery(fields).map { (id, $0) }
        }
    }

    // MARK: - Steps

    private func reclaim(consumer: String, count: Int) async throws -> [QueueJob] {
        let reply = try await withGroup {
            try await self.redis.evalSHA(
                QueueScripts.claim, keys: [self.keys.stream, self.keys.delayed],
                arguments: [
                    self.configuration.group, consumer, String(count),
                    String(max(1, RetrySchedule.milliseconds(self.configuration.visibilityTimeout))),
                    String(self.configuration.retention), String(max(1, self.configuration.promoteBatch)),
                ])
        }
        guard let parts = reply.array, parts.count == 2, let claimed = parts[1].array else {
            throw QueueError.unexpectedReply("\(reply)")
        }
        var jobs: [QueueJob] = []
        for item in claimed {
            guard let triple = item.array, triple.count == 3, let id = triple[0].string else { continue }
            let deliveries = Int(triple[2].integer ?? 1)
            guard let fields = JobFields.dictionary(triple[1]),
                let job = JobFields.job(id: id, fields: fields, deliveries: deliveries)
            else {
                try await deadLetterUnreadable(id: id)
                continue
            }
            metrics.reclaimed.increment()
            var machine = JobStateMachine(inFlightAttempt: job.attempt, consumer: "", previousDelay: job.previousDelay)
            let action = machine.reclaimed(
                by: consumer, deliveries: deliveries, maxDeliveries: configuration.maxDeliveries)
            if case .handle = action {
                logger.warning(
                    "took over a job whose worker died",
                    metadata: ["JOB_ID": "\(id)", "DELIVERIES": "\(deliveries)", "CONSUMER": "\(consumer)"])
                jobs.append(job)
            } else {
                _ = try await perform(action, job: job)
            }
        }
        return jobs
    }

    private func readNew(consumer: String, count: Int, block: Bool) async throws -> [QueueJob] {
        var command = ["XREADGROUP", "GROUP", configuration.group, consumer, "COUNT", String(count)]
        let blockMilliseconds = RetrySchedule.milliseconds(configuration.blockTime)
        let client: RedisClient
        if block && blockMilliseconds > 0 {
            command += ["BLOCK", String(blockMilliseconds)]
            client = blocking
        } else {
            client = redis
        }
        command += ["STREAMS", keys.stream, ">"]
        let read = command
        let reply = try await withGroup { try await client.send(read) }
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2 else { return [] }
        var jobs: [QueueJob] = []
        for (id, fields) in try entries(first[1]) {
            if let job = JobFields.job(id: id, fields: fields, deliveries: 1) {
                jobs.append(job)
            } else {
                try await deadLetterUnreadable(id: id)
            }
        }
        return jobs
    }

    private func deadLetterUnreadable(id: String) async throws {
        logger.error("dead-lettered a job whose fields cannot be read", metadata: ["JOB_ID": "\(id)"])
        _ = try await settle(
            id: id, mode: "move", target: keys.dead, maxLength: configuration.deadLetterRetention,
            overrides: [JobFields.error, "the job's fields cannot be read", JobFields.failedAt, String(Self.now())])
        metrics.deadLettered.increment()
    }

    private func perform(_ action: JobStateMachine.Action, job: QueueJob, error: String? = nil) async throws
        -> FailureOutcome
    {
        switch action {
        case .scheduleRetry(let next, let delay):
            let settled = try await settle(
                job, mode: "retry", target: keys.delayed, delay: delay,
                overrides: [
                    JobFields.attempt, String(next), JobFields.delay, String(RetrySchedule.milliseconds(delay)),
                    JobFields.origin, job.originID, JobFields.error, error ?? "",
                ])
            guard settled else { return .notHeld }
            metrics.retries.increment()
            return .retryScheduled(nextAttempt: next, delay: delay)
        case .deadLetter(let attempts, let reason):
            let settled = try await settle(
                job, mode: "move", target: keys.dead, maxLength: configuration.deadLetterRetention,
                overrides: [
                    JobFields.error, reason, JobFields.attempts, String(attempts), JobFields.failedAt, String(Self.now()),
                    JobFields.origin, job.originID,
                ])
            guard settled else { return .notHeld }
            metrics.deadLettered.increment()
            logger.error(
                "dead-lettered a job", metadata: ["JOB_ID": "\(job.originID)", "ATTEMPTS": "\(attempts)", "ERROR": "\(reason)"])
            return .deadLettered
        case .handle, .ack, .enqueue, .park, .invalid:
            throw QueueError.unexpectedReply("no failure action for \(action)")
        }
    }

    private func settle(
        _ job: QueueJob, mode: String, target: String, delay: Duration = .zero, maxLength: Int = 0,
        overrides: [String] = []
    ) async throws -> Bool {
        try await settle(id: job.id, mode: mode, target: target, delay: delay, maxLength: maxLength, overrides: overrides)
    }

    private func settle(
        id: String, mode: String, target: String, delay: Duration = .zero, maxLength: Int = 0, overrides: [String]
    ) async throws -> Bool {
        let reply = try await withGroup {
            try await self.redis.evalSHA(
                QueueScripts.settle, keys: [self.keys.stream, target, self.keys.retries],
                arguments: [
                    self.configuration.group, id, mode, String(max(0, RetrySchedule.milliseconds(delay))),
                    String(maxLength),
                ] + overrides)
        }
        return reply.integer == 1
    }

    private func requeue(from source: String, selector: [String]) async throws -> [String] {
        let reply: RedisReply
        do {
            reply = try await redis.evalSHA(
                QueueScripts.requeue, keys: [source, keys.stream],
                arguments: [String(configuration.retention)] + selector)
        } catch let error as RedisError {
            throw QueueError.redis(error)
        }
        return (reply.array ?? []).compactMap(\.string)
    }

    private func command(_ arguments: [String]) async throws -> RedisReply {
        do {
            return try await redis.send(arguments)
        } catch let error as RedisError {
            throw QueueError.redis(error)
        }
    }

    /// Runs a group command; on NOGROUP (first use, or Redis lost its data) creates the group and retries once.
    private func withGroup(_ body: @Sendable () async throws -> RedisReply) async throws -> RedisReply {
        do {
            do {
                return try await body()
            } catch let error as RedisError where error.kind == .serverError && error.message.hasPrefix("NOGROUP") {
                try await createGroup()
                return try await body()
            }
        } catch let error as RedisError {
            throw QueueError.redis(error)
        }
    }

    /// Creates the consumer group (reading the stream from its start); an existing group is kept.
    public func createGroup() async throws {
        do {
            _ = try await redis.send(["XGROUP", "CREATE", keys.stream, configuration.group, "0", "MKSTREAM"])
        } catch let error as RedisError where error.kind == .serverError && error.message.hasPrefix("BUSYGROUP") {
            return
        }
    }

    /// `[[id, [name, value, …]], …]` as pairs.
    private func entries(_ reply: RedisReply) throws -> [(String, [String: String])] {
        guard let items = reply.array else {
            if reply.isNull { return [] }
            throw QueueError.unexpectedReply("\(reply)")
        }
        return items.compactMap { item in
            guard let pair = item.array, pair.count == 2, let id = pair[0].string else { return nil }
            return (id, JobFields.dictionary(pair[1]) ?? [:])
        }
    }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
