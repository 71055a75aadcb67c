import RedisBridge
import TrafficPoliceCore

/// A job handed to a consumer: one delivery, the attempt it is on, and where it sits in the stream.
public struct QueueJob: Sendable, Hashable {
    /// The stream entry id (what `ack` and `fail` take).
    public var id: String
    /// The id the job got when it was first enqueued (kept across retries, for logs).
    public var originID: String
    public var delivery: WebhookDelivery
    /// This attempt, 1-based.
    public var attempt: Int
    /// The delay that preceded this attempt (nil on the first).
    public var previousDelay: Duration?
    /// The error of the previous attempt, if any.
    public var lastError: String?
    /// How often the queue has handed this entry out (more than 1: a worker died holding it).
    public var deliveries: Int
}

/// A job that gave up: what it was and why.
public struct DeadLetter: Sendable, Hashable, Codable {
    /// The dead-letter stream entry id (what `retry(deadLetterID:)` takes).
    public var id: String
    /// The job's first id.
    public var originID: String
    public var delivery: WebhookDelivery
    /// Attempts made.
    public var attempts: Int
    /// The last error.
    public var error: String
    /// When it was dead-lettered, in milliseconds since the Unix epoch.
    public var failedAtMilliseconds: Int64
}

/// A snapshot of the queue (also exported as gauges).
public struct QueueStats: Sendable, Hashable, Codable {
    /// Jobs in the stream not yet handed to a worker.
    public var depth: Int
    /// Jobs handed to a worker and not yet settled (includes those whose worker died, until reclaimed).
    public var inFlight: Int
    /// Jobs waiting for a retry.
    public var delayed: Int
    /// Jobs in the dead letters.
    public var deadLetters: Int
    /// Retries scheduled since the queue was created.
    public var retries: Int
    /// Jobs set aside until a handler exists for them (Eventbrite deliveries awaiting the order resolver).
    public var awaitingResolution: Int

    public init(depth: Int, inFlight: Int, delayed: Int, deadLetters: Int, retries: Int, awaitingResolution: Int) {
        self.depth = depth
        self.inFlight = inFlight
        self.delayed = delayed
        self.deadLetters = deadLetters
        self.retries = retries
        self.awaitingResolution = awaitingResolution
    }

    enum CodingKeys: String, CodingKey {
        case depth, retries
        case inFlight = "in_flight"
        case delayed
        case deadLetters = "dead_letters"
        case awaitingResolution = "awaiting_resolution"
    }
}

/// The fields of a job in the stream, the delayed set and the dead letters.
enum JobFields {
    static let platform = "platform"
    static let dedupe = "dedupe"
    static let kind = "kind"
    static let body = "body"
    static let received = "received"
    static let attempt = "attempt"
    static let delay = "delay_ms"
    static let error = "error"
    static let origin = "origin"
    static let attempts = "attempts"
    static let failedAt = "failed_at"

    /// The fields of a new job.
    static func encode(_ delivery: WebhookDelivery) -> [String] {
        [
            platform, delivery.platform.rawValue, dedupe, delivery.dedupeKey, kind, delivery.kind, body, delivery.body,
            received, String(delivery.receivedAtMilliseconds), attempt, "1",
        ]
    }

    /// A flat `[name, value, …]` reply as a dictionary (later duplicates win).
    static func dictionary(_ reply: RedisReply) -> [String: String]? {
        guard let items = reply.array, items.count % 2 == 0 else { return nil }
        var result: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            guard let name = items[index].string, let value = items[index + 1].string else { return nil }
            result[name] = value
            index += 2
        }
        return result
    }

    static func delivery(_ fields: [String: String]) -> WebhookDelivery? {
        guard let platform = fields[platform].flatMap(Platform.init(rawValue:)), let dedupe = fields[dedupe],
            let kind = fields[kind], let body = fields[body]
        else { return nil }
        return WebhookDelivery(
            platform: platform, dedupeKey: dedupe, kind: kind, body: body,
            receivedAtMilliseconds: fields[received].flatMap { Int64($0) } ?? 0)
    }

    static func job(id: String, fields: [String: String], deliveries: Int) -> QueueJob? {
        guard let delivery = delivery(fields) else { return nil }
        return QueueJob(
            id: id, originID: fields[origin] ?? id, delivery: delivery,
            attempt: max(1, fields[attempt].flatMap { Int($0) } ?? 1),
            previousDelay: fields[delay].flatMap { Int64($0) }.map { .milliseconds($0) },
            lastError: fields[error], deliveries: max(1, deliveries))
    }

    static func deadLetter(id: String, fields: [String: String]) -> DeadLetter? {
        guard let delivery = delivery(fields) else { return nil }
        return DeadLetter(
            id: id, originID: fields[origin] ?? id, delivery: delivery,
            attempts: fields[attempts].flatMap { Int($0) } ?? fields[attempt].flatMap { Int($0) } ?? 1,
            error: fields[error] ?? "", failedAtMilliseconds: fields[failedAt].flatMap { Int64($0) } ?? 0)
    }
}
