import Logging
import Metrics

/// Intake's sink (G4): the Redis queue, or the local spool while Redis cannot take a delivery.
///
/// In fail-safe (``RedisWatchdog/isFailsafe``) every delivery goes straight to the spool. Otherwise
/// it goes to the queue, and when Redis does not answer (a `QueueError.redis`: unreachable, timed
/// out, restarting) to the spool instead, so intake still answers 202 for a delivery that is on
/// disk. A delivery the queue may have taken before its reply was lost is also spooled: the replay
/// dedupes it. A full queue (`QueueError.full`) and a full spool (`SpoolError.full`) are refused:
/// intake answers 503 and the platform retries.
public struct FailoverSink: DeliverySink {
    let queue: any DeliverySink
    let spool: DeliverySpool
    let failsafe: @Sendable () -> Bool
    let logger: Logger

    /// - Parameter failsafe: whether the daemon is in fail-safe now (the watchdog's state).
    public init(
        queue: any DeliverySink, spool: DeliverySpool, failsafe: @escaping @Sendable () -> Bool, logger: Logger
    ) {
        self.queue = queue
        self.spool = spool
        self.failsafe = failsafe
        self.logger = logger
    }

    public func enqueue(_ delivery: WebhookDelivery) async throws -> EnqueueResult {
        if failsafe() { return try await spooled(delivery) }
        do {
            return try await queue.enqueue(delivery)
        } catch QueueError.redis(let error) {
            logger.warning(
                "Redis did not take the delivery: it goes to the spool",
                metadata: ["PLATFORM": "\(delivery.platform.rawValue)", "ERROR": "\(error)"])
            return try await spooled(delivery)
        }
    }

    private func spooled(_ delivery: WebhookDelivery) async throws -> EnqueueResult {
        let result = try await spool.enqueue(delivery)
        Counter(label: "traffic_police_spooled_deliveries_total", dimensions: [("platform", delivery.platform.rawValue)])
            .increment()
        return result
    }
}
