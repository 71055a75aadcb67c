/// The watchdog's decisions, without I/O or clocks of its own: when to send WATCHDOG=1 given the
/// liveness probes' answers and the time. `SystemdNotifierService` calls `tick(at:)` every
/// `pingInterval` (half of systemd's WatchdogSec), starts the probes it returns and reports their
/// answers with `probeFinished(_:succeeded:at:)`.
///
/// A tick pings only when every probe answered its previous round successfully within `deadline`.
/// A probe still running past the deadline is hung: no ping, and it is not started again until it
/// returns (so a hung actor never piles up probes). It counts again once a later round answers in time.
public struct WatchdogState: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// The outcome of a probe's latest finished round.
    public enum Outcome: Sendable, Hashable {
        /// Answered within the deadline (also the optimistic state before the first round).
        case answered
        /// Returned after the deadline.
        case late
        /// Threw.
        case failed
    }

    /// Why a probe keeps the watchdog from pinging.
    public enum Failure: Sendable, Hashable {
        /// Still running past the deadline.
        case hung
        /// Its last round returned after the deadline.
        case late
        /// Its last round threw.
        case failed
    }

    /// What to do at a tick.
    public struct Tick: Sendable, Hashable {
        /// Send WATCHDOG=1.
        public var ping: Bool
        /// Probes to start now (each one not already running).
        public var start: [String]
        /// Probes that keep the watchdog from pinging, with why.
        public var failing: [String: Failure]

        public init(ping: Bool, start: [String], failing: [String: Failure]) {
            self.ping = ping
            self.start = start
            self.failing = failing
        }
    }

    private enum Probe: Sendable, Hashable {
        case idle(last: Outcome)
        case running(since: Instant, last: Outcome)
    }

    /// How often to tick: half the watchdog interval.
    public let pingInterval: Duration
    /// How long a probe may take; at most `pingInterval`.
    public let deadline: Duration
    private var probes: [String: Probe]

    /// - Parameters:
    ///   - watchdogInterval: systemd's WATCHDOG_USEC (`SystemdNotifier.watchdogInterval()`).
    ///   - deadline: per-probe deadline; default (nil) half of `pingInterval`; capped at `pingInterval`.
    ///   - probes: the probes' names.
    public init(watchdogInterval: Duration, deadline: Duration? = nil, probes: [String]) {
        let pingInterval = watchdogInterval / 2
        self.pingInterval = pingInterval
        self.deadline = min(deadline ?? pingInterval / 2, pingInterval)
        self.probes = Dictionary(probes.map { ($0, Probe.idle(last: .answered)) }, uniquingKeysWith: { first, _ in first })
    }

    /// Decides this tick: ping or not, and which probes to start (they are marked running from `now`).
    public mutating func tick(at now: Instant) -> Tick {
        var start: [String] = []
        var failing: [String: Failure] = [:]
        for name in probes.keys.sorted() {
            guard let probe = probes[name] else { continue }
            switch probe {
            case .idle(let last):
                if let failure = Self.failure(last) { failing[name] = failure }
                probes[name] = .running(since: now, last: last)
                start.append(name)
            case .running(let since, let last):
                if since.duration(to: now) > deadline {
                    failing[name] = .hung
                } else if let failure = Self.failure(last) {
                    failing[name] = failure
                }
            }
        }
        return Tick(ping: failing.isEmpty, start: start, failing: failing)
    }

    /// Records that probe `name` returned (or threw) at `now`.
    public mutating func probeFinished(_ name: String, succeeded: Bool, at now: Instant) {
        guard case .running(let since, _) = probes[name] else { return }
        let outcome: Outcome =
            if !succeeded { .failed } else if since.duration(to: now) > deadline { .late } else { .answered }
        probes[name] = .idle(last: outcome)
    }

    private static func failure(_ outcome: Outcome) -> Failure? {
        switch outcome {
        case .answered: nil
        case .late: .late
        case .failed: .failed
        }
    }

    /// Whether probe `name` is running (started and not yet returned).
    public func isRunning(_ name: String) -> Bool {
        if case .running = probes[name] { return true }
        return false
    }
}
