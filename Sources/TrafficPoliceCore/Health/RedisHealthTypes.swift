extension RedisHealth {
    /// When Redis counts as lost and as back. Times are in milliseconds.
    public struct Configuration: Sendable, Hashable {
        /// Time between two pings. Default 250 ms.
        public var pingIntervalMs: Int64 = 250
        /// A ping unanswered after this long counts as missed (also the watchdog connection's
        /// connect and command timeout). Default 200 ms.
        public var pingTimeoutMs: Int64 = 200
        /// Consecutive missed pings that trip fail-safe; at least 2 (a single miss never trips). Default 3.
        public var missesToTrip: Int = 3
        /// Consecutive answered pings needed, together with a completed recovery, to leave fail-safe;
        /// at least 2 (a single answer never leaves fail-safe). Default 4.
        public var successesToRecover: Int = 4
        /// Fail-safe at the latest this long after the first missed ping was recorded, however few
        /// misses were counted (a hung ping, a slow shell). The first missed ping was sent at most
        /// `pingTimeoutMs` before it was recorded, so G5's 1 s holds while
        /// `tripBudgetMs + pingTimeoutMs <= 1000`. Default 750 ms.
        public var tripBudgetMs: Int64 = 750

        public init() {}

        /// The same with every value in range: intervals and timeouts at least 1 ms, the counts at
        /// least 2, the budget at least 1 ms.
        public var clamped: Configuration {
            var c = self
            c.pingIntervalMs = max(1, c.pingIntervalMs)
            c.pingTimeoutMs = max(1, c.pingTimeoutMs)
            c.missesToTrip = max(2, c.missesToTrip)
            c.successesToRecover = max(2, c.successesToRecover)
            c.tripBudgetMs = max(1, c.tripBudgetMs)
            return c
        }
    }

    /// What one ping came to, as the shell saw it.
    public enum PingOutcome: Sendable, Hashable {
        /// Redis answered after `latencyMs`.
        case answered(latencyMs: Int64)
        /// No answer within `pingTimeoutMs` (or an error, e.g. connection refused). The shell records
        /// it when the timeout passes, even if the call is still hanging.
        case missed
    }

    /// Why the daemon is in fail-safe.
    public enum Reason: Sendable, Hashable {
        /// This many consecutive pings went unanswered.
        case missedPings(Int)
        /// No ping was answered for this long since the first missed one (the trip budget ran out).
        case unansweredFor(ms: Int64)
        /// An operator turned fail-safe on.
        case manual
        /// Redis answers but lost its data (the daemon's marker is gone, or it restarted without
        /// persistence): what was queued there may be gone too (G6).
        case dataLost
    }

    /// Where the daemon stands.
    public enum State: Sendable, Hashable {
        /// Redis answers; sales are open.
        case healthy
        /// Some pings went unanswered, not enough to trip; sales are still open.
        case suspect(firstMissAt: Int64, misses: Int)
        /// Fail-safe since `since`: sales closed, intake spooled, no box-office sale.
        case failsafe(since: Int64, reason: Reason)
        /// Still fail-safe; Redis answers again and the shell rebuilds (counters from the ledger,
        /// spool replay, reconciliation) under recovery number `attempt`. `rebuilt` once the shell
        /// reported it done.
        case recovering(since: Int64, attempt: Int, rebuilt: Bool)

        /// Whether sales are closed in this state.
        public var isFailsafe: Bool {
            switch self {
            case .healthy, .suspect: false
            case .failsafe, .recovering: true
            }
        }
    }

    /// What the shell must do on a transition.
    public enum Action: Sendable, Hashable {
        /// A ping went unanswered; not fail-safe yet (log a warning).
        case warn
        /// Redis answered before the trip; nothing to undo.
        case clearWarning
        /// Enter fail-safe: tell every listing to stop selling, spool intake, refuse box-office sales.
        case enterFailsafe(Reason)
        /// Still fail-safe, now for this reason (manual fail-safe turned off while Redis is unhealthy).
        case keepFailsafe(Reason)
        /// Start recovery number `attempt`: rebuild counters from the ledger, replay the spool,
        /// reconcile; then call `recoveryCompleted(attempt:at:)`.
        case beginRecovery(attempt: Int)
        /// Abandon the recovery in progress (its results must not be trusted); still fail-safe.
        case abortRecovery(attempt: Int, Reason)
        /// Leave fail-safe: reopen sales.
        case leaveFailsafe
    }

    /// A change of state and what to do about it.
    public struct Transition: Sendable, Hashable {
        public var from: State
        public var to: State
        public var action: Action
        /// When it happened (the time given to the call that caused it).
        public var at: Int64
        /// When the first of the current run of missed pings was recorded; nil when the last ping was
        /// answered (or none was sent).
        public var firstMissAt: Int64?

        public init(from: State, to: State, action: Action, at: Int64, firstMissAt: Int64?) {
            self.from = from
            self.to = to
            self.action = action
            self.at = at
            self.firstMissAt = firstMissAt
        }
    }
}

extension RedisHealth.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .missedPings(let count): "Redis missed \(count) consecutive ping\(count == 1 ? "" : "s")"
        case .unansweredFor(let ms): "Redis answered no ping for \(ms) ms"
        case .manual: "fail-safe turned on by hand"
        case .dataLost: "Redis lost its data"
        }
    }
}
