/// The Redis keys of the delivery queue. All of them share one hash tag (by default `{queue}`),
/// so every key a queue script touches lies in one Redis Cluster slot.
public struct QueueKeys: Sendable, Hashable {
    /// The prefix, hash tag included (default `tp:{queue}`).
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    /// Stream of jobs waiting or in flight (acked jobs are deleted from it); read by the consumer group.
    public var stream: String { "\(prefix):stream" }
    /// Sorted set of jobs waiting for a retry, scored by due time (ms since the epoch); members are JSON field lists.
    public var delayed: String { "\(prefix):delayed" }
    /// Stream of dead letters (the job's fields plus `error`, `attempts`, `failed_at`).
    public var dead: String { "\(prefix):dead" }
    /// Stream of jobs set aside until a handler exists for them (Eventbrite deliveries before the order resolver).
    public var parked: String { "\(prefix):pending-resolution" }
    /// Counter of retries ever scheduled.
    public var retries: String { "\(prefix):retries" }

    /// The string marking a delivery id as seen (`SET` with a TTL).
    public func dedupe(_ key: String) -> String { "\(prefix):dedupe:\(key)" }
}
