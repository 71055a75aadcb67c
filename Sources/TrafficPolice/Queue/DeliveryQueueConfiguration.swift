import TrafficPoliceCore

extension DeliveryQueue {
    /// How the queue behaves. Every field has a default suited to the daemon; tests shorten the times.
    public struct Configuration: Sendable {
        /// Prefix of every key, hash tag included, so all queue keys share one Cluster slot. Default `tp:{queue}`.
        public var keyPrefix: String = "tp:{queue}"
        /// The consumer group every worker reads through. Default `workers`.
        public var group: String = "workers"
        /// How long a delivery id is remembered to refuse duplicates. Default 72 h.
        public var dedupeTTL: Duration = .seconds(72 * 3600)
        /// The most jobs the stream holds (waiting + in flight); past it `enqueue` throws `QueueError.full`
        /// rather than let `MAXLEN ~` trim a job already answered 202. Default 1,000,000.
        public var retention: Int = 1_000_000
        /// The most dead letters kept (the oldest are trimmed). Default 100,000.
        public var deadLetterRetention: Int = 100_000
        /// A job held longer than this without being settled is taken over by another consumer
        /// (its worker is presumed dead). Must exceed the longest a job takes. Default 30 s.
        public var visibilityTimeout: Duration = .seconds(30)
        /// How long `nextJobs` waits for new jobs when there are none (XREADGROUP BLOCK);
        /// zero polls without waiting. Also bounds how late a due retry is picked up. Default 1 s.
        public var blockTime: Duration = .seconds(1)
        /// A job handed out more often than this without being settled is dead-lettered. Default 10.
        public var maxDeliveries: Int = 10
        /// Backoff and attempts for failed jobs. Default ``RetrySchedule/standard`` (1 s base, 5 min cap, 8 attempts, full jitter).
        public var retry: RetrySchedule = .standard
        /// Due retries moved back into the stream per `nextJobs` call. Default 100.
        public var promoteBatch: Int = 100
        /// Seed of the jitter's generator; nil seeds it randomly. Default nil.
        public var randomSeed: UInt64?

        public init() {}

        var keys: QueueKeys { QueueKeys(prefix: keyPrefix) }
    }
}
