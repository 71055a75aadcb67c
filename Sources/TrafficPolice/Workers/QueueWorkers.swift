import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The queue's workers as a swift-service-lifecycle `Service`: one loop pulls jobs from the
/// ``DeliveryQueue`` and up to `concurrency` of them are handled at once by the ``DeliveryHandler``,
/// then acked (or retried, dead-lettered, parked).
///
/// On graceful shutdown the loop stops taking jobs and `run()` returns once the jobs in flight are
/// finished (within `blockTime` of the queue plus the longest job). On cancellation the handlers are
/// cancelled and their unsettled jobs stay pending, to be taken over after the visibility timeout.
public struct QueueWorkers: Service {
    /// How many workers, and how they behave when Redis fails.
    public struct Configuration: Sendable {
        /// Jobs handled at once. Default 4.
        public var concurrency: Int = 4
        /// This instance's consumer name in the group; must be unique per daemon. Default `hostname-pid`.
        public var consumerName: String = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        /// The pause after the queue could not be read (Redis down) before trying again. Default 1 s.
        public var errorBackoff: Duration = .seconds(1)
        /// How often the queue gauges are refreshed. Default 5 s.
        public var statsInterval: Duration = .seconds(5)

        public init() {}
    }

    public let queue: DeliveryQueue
    public let handler: any DeliveryHandler
    public let configuration: Configuration
    /// Beats every time the pull loop goes round (a liveness probe watches it).
    public let heartbeat = Heartbeat()
    /// Jobs wait at this gate while the daemon rebuilds Redis after a loss (closed by the fail-safe controller).
    public let gate: WorkGate
    private let logger: Logger
    private let ready: @Sendable () async -> Void

    /// - Parameter ready: awaited before the first job is taken (the daemon passes its readiness, so
    ///   a daemon whose ledger is unreachable or unmigrated never takes — and loses — jobs).
    /// - Parameter gate: each job waits here before it is handled (see ``gate``).
    public init(
        queue: DeliveryQueue, handler: any DeliveryHandler, gate: WorkGate = WorkGate(), configuration: Configuration = .init(),
        logger: Logger? = nil,
        ready: @escaping @Sendable () async -> Void = {}
    ) {
        self.ready = ready
        self.queue = queue
        self.handler = handler
        self.gate = gate
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "traffic-police.workers")
    }

    public func run() async throws {
        let stopping = StopSignal()
        await withGracefulShutdownHandler {
            let started: Void? = try? await cancelWhenGracefulShutdown { [ready] in await ready() }
            guard started != nil, !stopping.isStopped, !Task.isCancelled else { return }
            heartbeat.beat()
            await pullLoop(stopping)
        } onGracefulShutdown: {
            stopping.stop()
        }
    }

    /// Pulls and dispatches until graceful shutdown or cancellation; returns when every job it started is done.
    private func pullLoop(_ stopping: StopSignal) async {
        let concurrency = max(1, configuration.concurrency)
        let inFlight = InFlightCount()
        let (slotFreed, slotContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        var slots = slotFreed.makeAsyncIterator()
        var nextStats = ContinuousClock.now
        logger.info("queue workers started", metadata: ["CONSUMER": "\(configuration.consumerName)", "CONCURRENCY": "\(concurrency)"])
        await withDiscardingTaskGroup { group in
            while !stopping.isStopped && !Task.isCancelled && !Task.isShuttingDownGracefully {
                heartbeat.beat()
                let free = concurrency - inFlight.value
                if free <= 0 {
                    _ = await slots.next()
                    continue
                }
                if ContinuousClock.now >= nextStats {
                    nextStats = ContinuousClock.now + configuration.statsInterval
                    _ = try? await queue.stats()
                }
                let jobs: [QueueJob]
                do {
                    jobs = try await queue.nextJobs(consumer: configuration.consumerName, count: free)
                } catch {
                    logger.warning("cannot read the delivery queue; trying again", metadata: ["ERROR": "\(error)"])
                    try? await cancelWhenGracefulShutdown { [errorBackoff = configuration.errorBackoff] in
                        try await Task.sleep(for: errorBackoff)
                    }
                    continue
                }
                for job in jobs {
                    inFlight.add(1)
                    group.addTask {
                        // A job held back until shutdown stays pending: it is taken over later.
                        if await gate.enter(giveUp: { stopping.isStopped }) {
                            await process(job)
                            gate.leave()
                        }
                        inFlight.add(-1)
                        slotContinuation.yield()
                    }
                }
            }
            let remaining = inFlight.value
            if remaining > 0 {
                logger.info("queue workers draining", metadata: ["IN_FLIGHT": "\(remaining)"])
            }
        }
        slotContinuation.finish()
        _ = try? await queue.retireConsumer(configuration.consumerName)
        _ = try? await queue.stats()
        logger.info("queue workers stopped", metadata: ["CONSUMER": "\(configuration.consumerName)"])
    }

    /// Handles one job and settles it. Never throws: a job it cannot settle stays pending and is
    /// taken over after the visibility timeout.
    func process(_ job: QueueJob) async {
        var metadata: Logger.Metadata = [
            "JOB_ID": "\(job.originID)", "PLATFORM": "\(job.delivery.platform.rawValue)", "KIND": "\(job.delivery.kind)",
            "ATTEMPT": "\(job.attempt)",
        ]
        do {
            switch try await handler.handle(job.delivery) {
            case .applied(let what):
                try await queue.ack(job)
                QueueMetrics.processed("applied")
                logger.debug("applied a delivery: \(what)", metadata: metadata)
            case .ignored(let why):
                try await queue.ack(job)
                QueueMetrics.processed("ignored")
                logger.warning("ignored a delivery: \(why)", metadata: metadata)
            case .parked(let why):
                try await queue.park(job, reason: why)
                QueueMetrics.processed("parked")
                logger.debug("parked a delivery: \(why)", metadata: metadata)
            case .rejected(let why):
                try await queue.reject(job, reason: why)
                QueueMetrics.processed("dead_lettered")
            }
        } catch is CancellationError {
            logger.info("job interrupted; it stays pending for another worker", metadata: metadata)
        } catch {
            metadata["ERROR"] = "\(error)"
            do {
                switch try await queue.fail(job, error: "\(error)") {
                case .retryScheduled(let next, let delay):
                    QueueMetrics.processed("retried")
                    metadata["RETRY_IN"] = "\(delay)"
                    logger.warning("a job failed; attempt \(next) is scheduled", metadata: metadata)
                case .deadLettered:
                    QueueMetrics.processed("dead_lettered")
                case .notHeld:
                    break
                }
            } catch {
                logger.error("cannot settle a failed job; it stays pending", metadata: metadata)
            }
        }
    }
}

/// Set once when graceful shutdown begins.
final class StopSignal: Sendable {
    private let stopped = Atomic<Bool>(false)
    func stop() { stopped.store(true, ordering: .releasing) }
    var isStopped: Bool { stopped.load(ordering: .acquiring) }
}

/// Jobs being handled now.
final class InFlightCount: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ delta: Int) { count.add(delta, ordering: .acquiringAndReleasing) }
    var value: Int { count.load(ordering: .acquiring) }
}
