import Logging
import ServiceLifecycle
import SystemdBridge

/// The daemon's sd_notify(3) side, as a `Service` for the daemon's `ServiceGroup`:
///
/// - `READY=1` once `readiness` is signalled (sockets bound, Redis and PostgreSQL answering);
/// - `STATUS=<one line>` from `status` right after that and every `statusInterval`;
/// - `WATCHDOG=1` every half `watchdogInterval`, only while every `LivenessProbe` answers within its
///   deadline (`WatchdogState` decides); before readiness it pings unconditionally, since start-up is
///   bounded by TimeoutStartSec instead;
/// - `STOPPING=1` on graceful shutdown (or cancellation), then `run()` returns.
///
/// A status closure or probe that hangs never blocks the others: each runs in its own task and is
/// not started again until it returns.
public struct SystemdNotifierService: Service {
    /// Timings. Defaults suit `WatchdogSec=10s`.
    public struct Configuration: Sendable {
        /// systemd's watchdog interval; nil disables WATCHDOG=1. Default: `WATCHDOG_USEC` for this
        /// process (`SystemdNotifier.watchdogInterval()`), nil when systemd set none.
        public var watchdogInterval: Duration?
        /// How long a probe may take. Default nil: a quarter of `watchdogInterval`.
        public var probeDeadline: Duration?
        /// How often STATUS= is refreshed (a queue-depth read each time). Default 1 s.
        public var statusInterval: Duration

        public init(
            watchdogInterval: Duration? = SystemdNotifier.watchdogInterval(),
            probeDeadline: Duration? = nil,
            statusInterval: Duration = .seconds(1)
        ) {
            self.watchdogInterval = watchdogInterval
            self.probeDeadline = probeDeadline
            self.statusInterval = statusInterval
        }
    }

    private enum Event: Sendable {
        case ready
        case watchdogTick
        case statusTick
        case probeFinished(name: String, succeeded: Bool, at: ContinuousClock.Instant)
        case status(String)
    }

    private let configuration: Configuration
    private let readiness: ReadinessSignal
    private let status: @Sendable () async -> String
    private let probes: [LivenessProbe]
    private let logger: Logger
    private let send: @Sendable (String) throws -> Bool

    /// - Parameters:
    ///   - readiness: signalled by the daemon when it is ready to serve.
    ///   - status: one line for `systemctl status`, e.g. `mode=open queue=3 spool=0`; newlines become spaces.
    ///   - probes: liveness probes; names should be unique.
    ///   - send: sends one notification; default `SystemdNotifier.notify` (to `$NOTIFY_SOCKET`).
    public init(
        configuration: Configuration = Configuration(),
        readiness: ReadinessSignal,
        status: @escaping @Sendable () async -> String,
        probes: [LivenessProbe] = [],
        logger: Logger,
        send: @escaping @Sendable (String) throws -> Bool = { try SystemdNotifier.notify($0) }
    ) {
        self.configuration = configuration
        self.readiness = readiness
        self.status = status
        self.probes = probes
        self.logger = logger
        self.send = send
    }

    public func run() async throws {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        await readiness.wait()
                        if readiness.isReady { continuation.yield(.ready) }
                    }
                    if let interval = configuration.watchdogInterval {
                        group.addTask { await Self.tick(every: interval / 2, .watchdogTick, into: continuation) }
                    }
                    group.addTask {
                        await Self.tick(every: configuration.statusInterval, .statusTick, into: continuation)
                    }
                    await consume(events, continuation: continuation)
                    group.cancelAll()
                }
            } onCancel: {
                continuation.finish()
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
        notify("STOPPING=1")
    }

    /// Yields `event` now and then every `interval` until cancelled.
    private static func tick(
        every interval: Duration, _ event: Event, into continuation: AsyncStream<Event>.Continuation
    ) async {
        let clock = ContinuousClock()
        var next = clock.now
        while !Task.isCancelled {
            continuation.yield(event)
            next = next.advanced(by: interval)
            let now = clock.now
            if next < now { next = now }  // fell behind (suspended process): do not burst
            do { try await clock.sleep(until: next) } catch { return }
        }
    }

    /// The event loop: owns all state, performs every notification.
    private func consume(_ events: AsyncStream<Event>, continuation: AsyncStream<Event>.Continuation) async {
        let clock = ContinuousClock()
        var ready = false
        var watchdog: WatchdogState? = configuration.watchdogInterval.map {
            WatchdogState(watchdogInterval: $0, deadline: configuration.probeDeadline, probes: probes.map(\.name))
        }
        var probeTasks: [String: Task<Void, Never>] = [:]
        var statusTask: Task<Void, Never>?
        var reportedFailing: [String: WatchdogState.Failure] = [:]
        defer {
            statusTask?.cancel()
            probeTasks.values.forEach { $0.cancel() }
        }

        func startStatus() {
            guard ready, statusTask == nil else { return }
            let status = self.status
            statusTask = Task { continuation.yield(.status(await status())) }
        }

        for await event in events {
            switch event {
            case .ready:
                ready = true
                notify("READY=1")
                logger.info("systemd notified: ready")
                startStatus()
            case .statusTick:
                startStatus()
            case .status(let text):
                statusTask = nil
                notify("STATUS=" + Self.oneLine(text))
            case .probeFinished(let name, let succeeded, let at):
                probeTasks[name] = nil
                watchdog?.probeFinished(name, succeeded: succeeded, at: at)
            case .watchdogTick:
                guard ready else {
                    notify("WATCHDOG=1")
                    continue
                }
                guard var state = watchdog else { continue }
                let tick = state.tick(at: clock.now)
                watchdog = state
                if tick.ping { notify("WATCHDOG=1") }
                if tick.failing != reportedFailing {
                    if tick.failing.isEmpty {
                        logger.notice("watchdog: every liveness probe answers again; pings resumed")
                    } else {
                        let detail = tick.failing.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                        logger.error(
                            "watchdog: liveness probe not answering; WATCHDOG=1 pings stopped",
                            metadata: ["probes": "\(detail.joined(separator: ", "))"])
                    }
                    reportedFailing = tick.failing
                }
                for name in tick.start {
                    guard let probe = probes.first(where: { $0.name == name }) else { continue }
                    probeTasks[name] = Task {
                        let succeeded: Bool
                        do {
                            try await probe.check()
                            succeeded = true
                        } catch {
                            succeeded = false
                        }
                        continuation.yield(.probeFinished(name: name, succeeded: succeeded, at: clock.now))
                    }
                }
            }
        }
    }

    private func notify(_ state: String) {
        do {
            _ = try send(state)
        } catch {
            logger.warning("sd_notify failed", metadata: ["notification": "\(state.prefix(20))", "error": "\(error)"])
        }
    }

    /// `text` on one line: line breaks become spaces.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
