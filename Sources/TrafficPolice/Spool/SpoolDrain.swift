import Logging
import Metrics
import ServiceLifecycle
import TrafficPoliceCore

/// Moves what the spool holds back into the Redis queue (G4, G6): a swift-service-lifecycle `Service`.
///
/// Every ``Configuration/interval`` it looks at the watchdog: while healthy it replays whatever a
/// failed enqueue left in the spool (the queue dedupes what it already had). In fail-safe and while
/// recovering it does nothing: the ``FailsafeController`` replays as a step of the recovery. A replay
/// that fails is tried again on the next round; nothing is truncated before every record is in the queue.
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

    /// One round: replay when healthy with records.
    func drainOnce() async {
        switch watchdog.health.state {
        case .healthy, .suspect:
            if spool.count > 0 { _ = await replay() }
        case .failsafe, .recovering:
            return
        }
    }

    private func replay() async -> Bool {
        let waiting = spool.count
        do {
            try await spool.replayCounted(into: queue, logger: logger)
            return true
        } catch {
            logger.warning(
                "spool replay failed; it is tried again", metadata: ["RECORDS": "\(waiting)", "ERROR": "\(error)"])
            return false
        }
    }
}

extension DeliverySpool {
    /// ``replay(into:)``, counted in `traffic_police_spool_replayed_total` and logged when it moved anything.
    @discardableResult
    func replayCounted(into sink: any DeliverySink, logger: Logger) async throws -> ReplayReport {
        let report = try await replay(into: sink)
        if report.replayed > 0 {
            Counter(label: "traffic_police_spool_replayed_total").increment(by: report.replayed)
            logger.notice(
                "spool replayed into the queue",
                metadata: [
                    "RECORDS": "\(report.replayed)", "ENQUEUED": "\(report.enqueued)",
                    "DUPLICATES": "\(report.duplicates)",
                ])
        }
        return report
    }
}
