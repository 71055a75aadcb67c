import Logging
import RedisBridge
import ServiceLifecycle
import TrafficPoliceCore

/// The health watchdog (G5): pings Redis every `pingInterval` on a connection of its own, feeds the
/// answers to ``RedisHealth`` and publishes every transition on ``transitions`` (in order), logging
/// fail-safe entry at `critical` and exit at `notice` with a `STATUS=`-ready line.
///
/// A ping unanswered after `pingTimeout` counts as missed even while the call still hangs (it is
/// raced against a timer; hiredis runs on the bridge's own thread), and no new ping is sent while an
/// earlier one is still in flight: each tick until it returns counts as another miss. While suspect
/// the loop also wakes at the trip deadline, so a fail-safe is never late.
///
/// Reading ``health``, ``isFailsafe`` and ``status`` never waits for the loop. On graceful shutdown
/// (or cancellation) `run()` closes its connection, finishes ``transitions`` and returns.
public final class RedisWatchdog: Service, Sendable {
    /// Thresholds and timings (all in ``RedisHealth/Configuration``).
    public struct Configuration: Sendable, Hashable {
        public var health = RedisHealth.Configuration()

        public init() {}

        /// The watchdog's own connection from the daemon's Redis settings: one connection, connect and
        /// command timeouts equal to the ping timeout.
        public func redisConfiguration(from base: RedisConfiguration) -> RedisConfiguration {
            var redis = base
            let timeout = Duration.milliseconds(health.clamped.pingTimeoutMs)
            redis.poolSize = 1
            redis.packingLimit = 0
            redis.connectTimeout = timeout
            redis.commandTimeout = timeout
            return redis
        }
    }

    /// Every transition, in the order they happened. Unbounded (transitions are rare); finished when
    /// `run()` returns.
    public nonisolated let transitions: AsyncStream<RedisHealth.Transition>
    public let configuration: Configuration
    /// Beats every tick, for a liveness probe.
    public let heartbeat = Heartbeat()

    private let continuation: AsyncStream<RedisHealth.Transition>.Continuation
    /// Sends one PING; true when Redis answered it.
    private let sendPing: @Sendable () async -> Bool
    /// Closes the watchdog's connection.
    private let close: @Sendable () async -> Void
    private let state: Locked<RedisHealth>
    private let pendingPings = Locked(0)
    private let origin = ContinuousClock.now
    private let logger: Logger

    /// - Parameters:
    ///   - redis: the daemon's Redis settings; the watchdog opens its own connection from them
    ///     (``Configuration/redisConfiguration(from:)``).
    public convenience init(redis: RedisConfiguration, configuration: Configuration = .init(), logger: Logger? = nil) {
        let client = RedisClient(configuration: configuration.redisConfiguration(from: redis))
        self.init(
            configuration: configuration, logger: logger,
            ping: { (try? await client.send("PING")) != nil }, close: { await client.shutdown() })
    }

    /// A watchdog on any ping (tests give it one that hangs).
    init(
        configuration: Configuration, logger: Logger?, ping: @escaping @Sendable () async -> Bool,
        close: @escaping @Sendable () async -> Void
    ) {
        self.configuration = configuration
        self.sendPing = ping
        self.close = close
        self.state = Locked(RedisHealth(configuration: configuration.health))
        self.logger = logger ?? Logger(label: "traffic-police.redis-watchdog")
        (transitions, continuation) = AsyncStream.makeStream(of: RedisHealth.Transition.self)
    }

    /// The state machine as it is now.
    public var health: RedisHealth { state.value }
    /// Whether sales are closed (fail-safe or recovering).
    public var isFailsafe: Bool { state.value.isFailsafe }
    /// One line for `STATUS=`.
    public var status: String { state.value.status }

    /// Milliseconds since the watchdog was created: the clock of every ``RedisHealth/Transition``.
    public func milliseconds(at instant: ContinuousClock.Instant = .now) -> Int64 {
        let (seconds, attoseconds) = origin.duration(to: instant).components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Turns the manual fail-safe on or off (published and logged like any transition).
    @discardableResult
    public func setManual(_ on: Bool) -> RedisHealth.Transition? {
        logger.notice("manual fail-safe \(on ? "on" : "off")")
        return apply { $0.setManual(on, at: self.milliseconds()) }
    }

    /// Redis answers but lost its data (the marker check said so): fail-safe, then a recovery that
    /// reconciles (G6). Nothing when already in fail-safe.
    @discardableResult
    public func reportDataLoss() -> RedisHealth.Transition? {
        apply { $0.reportDataLoss(at: self.milliseconds()) }
    }

    /// The shell finished recovery `attempt` (counters rebuilt, spool replayed, reconciled).
    @discardableResult
    public func recoveryCompleted(attempt: Int) -> RedisHealth.Transition? {
        logger.notice("recovery finished", metadata: ["ATTEMPT": "\(attempt)"])
        return apply { $0.recoveryCompleted(attempt: attempt, at: self.milliseconds()) }
    }

    public func run() async throws {
        let health = configuration.health.clamped
        let interval = Duration.milliseconds(health.pingIntervalMs)
        logger.info(
            "Redis watchdog started",
            metadata: [
                "PING_INTERVAL_MS": "\(health.pingIntervalMs)", "PING_TIMEOUT_MS": "\(health.pingTimeoutMs)",
                "MISSES_TO_TRIP": "\(health.missesToTrip)", "TRIP_BUDGET_MS": "\(health.tripBudgetMs)",
            ])
        var next = ContinuousClock.now
        ticking: while !Task.isCancelled && !Task.isShuttingDownGracefully {
            heartbeat.beat()
            let outcome = await ping(timeout: .milliseconds(health.pingTimeoutMs))
            apply { $0.record(outcome, at: self.milliseconds()) }
            apply { $0.check(at: self.milliseconds()) }
            next = max(next + interval, .now)
            while ContinuousClock.now < next {
                var wake = next
                if let deadline = state.value.tripDeadline {
                    wake = min(wake, origin + .milliseconds(deadline))
                }
                do {
                    try await cancelWhenGracefulShutdown { [wake] in try await Task.sleep(until: wake, clock: .continuous) }
                } catch {
                    break ticking
                }
                apply { $0.check(at: self.milliseconds()) }
            }
        }
        await close()
        continuation.finish()
        logger.info("Redis watchdog stopped", metadata: ["STATUS": "\(status)"])
    }

    /// One PING raced against `timeout`; `.missed` at once while an earlier ping is still in flight.
    private func ping(timeout: Duration) async -> RedisHealth.PingOutcome {
        guard pendingPings.value == 0 else { return .missed }
        pendingPings.withLock { $0 += 1 }
        let start = ContinuousClock.now
        let slot = Locked<CheckedContinuation<Bool, Never>?>(nil)
        let (sendPing, pending) = (self.sendPing, pendingPings)
        var timer: Task<Void, Never>?
        let answered = await withCheckedContinuation { continuation in
            slot.withLock { $0 = continuation }
            Task {
                let answered = await sendPing()
                pending.withLock { $0 -= 1 }
                slot.withLock { $0.take() }?.resume(returning: answered)
            }
            timer = Task {
                try? await Task.sleep(for: timeout)
                slot.withLock { $0.take() }?.resume(returning: false)
            }
        }
        timer?.cancel()
        guard answered else { return .missed }
        return .answered(latencyMs: milliseconds(at: .now) - milliseconds(at: start))
    }

    /// Runs one step of the state machine; publishes and logs its transition.
    @discardableResult
    private func apply(_ step: @Sendable (inout RedisHealth) -> RedisHealth.Transition?) -> RedisHealth.Transition? {
        let (transition, status) = state.withLock { health -> (RedisHealth.Transition?, String) in
            let transition = step(&health)
            if let transition { continuation.yield(transition) }
            return (transition, health.status)
        }
        if let transition { log(transition, status: status) }
        return transition
    }

    private func log(_ transition: RedisHealth.Transition, status: String) {
        var metadata: Logger.Metadata = ["STATUS": "\(status)", "AT_MS": "\(transition.at)"]
        if let first = transition.firstMissAt {
            metadata["FIRST_MISS_MS"] = "\(first)"
            metadata["SINCE_FIRST_MISS_MS"] = "\(transition.at - first)"
        }
        switch transition.action {
        case .warn:
            logger.warning("Redis missed a ping", metadata: metadata)
        case .clearWarning:
            logger.info("Redis answers again", metadata: metadata)
        case .enterFailsafe(let reason):
            logger.critical("fail-safe entered: \(reason); sales closed", metadata: metadata)
        case .keepFailsafe(let reason):
            logger.error("fail-safe stays: \(reason)", metadata: metadata)
        case .beginRecovery(let attempt):
            logger.notice("recovery \(attempt) begins: rebuilding from the ledger", metadata: metadata)
        case .abortRecovery(let attempt, let reason):
            logger.error("recovery \(attempt) abandoned: \(reason)", metadata: metadata)
        case .leaveFailsafe:
            logger.notice("fail-safe left: sales reopen", metadata: metadata)
        }
    }
}
