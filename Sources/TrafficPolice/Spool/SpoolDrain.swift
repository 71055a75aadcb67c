import Logging
import Metrics
import ServiceLifecycle
import TrafficPoliceCore

/// Moves what the spool holds back into the Redis queue (G4, G6): a swift-service-lifecycle `Service`.
///
/// Every ``Configuration/interval`` it looks at the watchdog. While Redis is recovering it replays the
/// spool into the queue (the queue dedupes what it already had) and tells the watchdog the recovery
/// attempt is done; while healthy it replays whatever a failed enqueue left in the spool. In fail-safe
/// it does nothing. A replay that fails is tried again on the next round; nothing is truncated
/// before every record is in the queue.
public struct SpoolDrain: Service {
    public struct Configuration: Sendable {
        /// How often the watchdog and the spool are looked at. Default 500 ms.
        public var interval: Duration = .milliseconds(500)

        public init() {}
    }

    let spool: DeliverySpool
    let queue: any DeliverySink
    let watchdog: RedisWatchdog
    let configuration: Configuration
    let logger: Logger

    public init(
        spool: DeliverySpool, queue: any DeliverySink, watchdog: RedisWatchdog, configuration: Configuration = .init(),
        logger: Logger
    ) {
        self.spool = spool
        self.queue = queue
        self.watchdog = watchdog
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        if spool.count > 0 {
            logger.notice("the spool holds deliveries from before this start", metadata: ["RECORDS": "\(spool.count)"])
        }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await drainOnce()
                try await Task.sleep(for: configuration.interval)
            }
        }
    }

    /// One round: replay when recovering (then report the attempt done) or when healthy with records.
    func drainOnce() async {
        switch watchdog.health.state {
        case .recovering(_, let attempt, let rebuilt):
            guard !rebuilt else { return }
            if await replay() { watchdog.recoveryCompleted(attempt: attempt) }
        case .healthy, .suspect:
            if spool.count > 0 { _ = await replay() }
        case .failsafe:
            return
        }
    }

    private func replay() async -> Bool {
        let waiting = spool.count
        do {
            let report = try await spool.replay(into: queue)
            if report.replayed > 0 {
                Counter(label: "traffic_police_spool_replayed_total").increment(by: report.replayed)
                logger.notice(
                    "spool replayed into the queue",
                    metadata: [
                        "RECORDS": "\(report.replayed)", "ENQUEUED": "\(report.enqueued)",
                        "DUPLICATES": "\(report.duplicates)",
                    ])
            }
            return true
        } catch {
            logger.warning(
                "spool replay failed; it is tried again", metadata: ["RECORDS": "\(waiting)", "ERROR": "\(error)"])
            return false
        }
    }
}
