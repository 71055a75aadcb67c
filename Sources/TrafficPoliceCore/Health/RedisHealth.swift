/// Redis health and the fail-safe (G5, G6) as a value type, without clocks or I/O: the watchdog
/// feeds it ping outcomes and operator switches with the time in milliseconds, and each call returns
/// the transition (with what the shell must do), if any.
///
/// - healthy → suspect: a miss (`warn`); suspect → healthy: an answer (`clearWarning`);
/// - healthy or suspect → failsafe: `missesToTrip` consecutive misses, `tripBudgetMs` since the
///   first miss, the manual switch, or a reported loss of Redis's data (`enterFailsafe`);
/// - failsafe → recovering: an answer with the switch off, or the switch turned off while Redis
///   answers (`beginRecovery`);
/// - recovering → failsafe: a miss or the switch turned on (`abortRecovery`);
/// - recovering → healthy: ``recoveryCompleted(attempt:at:)`` and `successesToRecover` consecutive
///   answers, in either order (`leaveFailsafe`).
///
/// A fail-safe turned on by hand (``setManual(_:at:)``) holds whatever Redis does; turning it off
/// while the last ping went unanswered leaves the automatic fail-safe in force, and otherwise starts
/// a recovery (the spool filled meanwhile must be replayed). Leaving fail-safe always goes through
/// `recovering`, so neither a single answer nor a single miss ever moves sales.
public struct RedisHealth: Sendable, Hashable {
    /// The thresholds (clamped into range, see ``Configuration/clamped``).
    public let configuration: Configuration
    public private(set) var state: State = .healthy
    /// Whether an operator turned fail-safe on.
    public private(set) var manual = false
    /// Pings missed since the last answer.
    public private(set) var consecutiveMisses = 0
    /// Pings answered since the last miss.
    public private(set) var consecutiveAnswers = 0
    /// When the first of the current run of misses was recorded; nil while the last ping was answered.
    public private(set) var firstMissAt: Int64?
    /// Recoveries started so far (the number of the latest).
    public private(set) var recoveries = 0

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration.clamped
    }

    /// Whether sales are closed (fail-safe or recovering).
    public var isFailsafe: Bool { state.isFailsafe }

    /// While suspect: the time at which ``check(at:)`` trips fail-safe if nothing was answered.
    public var tripDeadline: Int64? {
        guard case .suspect(let first, _) = state else { return nil }
        return first + configuration.tripBudgetMs
    }

    /// Records a ping's outcome at `now` (for a miss: when its timeout passed or its error came back).
    public mutating func record(_ outcome: PingOutcome, at now: Int64) -> Transition? {
        switch outcome {
        case .answered: answered(at: now)
        case .missed: missed(at: now)
        }
    }

    /// Trips fail-safe when the trip budget has run out while suspect (a ping that hangs produces no
    /// outcome: the shell calls this at least at every tick, or at ``tripDeadline``).
    public mutating func check(at now: Int64) -> Transition? {
        guard case .suspect(let first, _) = state, now - first >= configuration.tripBudgetMs else { return nil }
        let reason = Reason.unansweredFor(ms: now - first)
        return move(to: .failsafe(since: now, reason: reason), .enterFailsafe(reason), at: now)
    }

    /// Turns the manual fail-safe on or off.
    public mutating func setManual(_ on: Bool, at now: Int64) -> Transition? {
        guard on != manual else { return nil }
        manual = on
        switch (on, state) {
        case (true, .healthy), (true, .suspect):
            return move(to: .failsafe(since: now, reason: .manual), .enterFailsafe(.manual), at: now)
        case (true, .recovering(_, let attempt, _)):
            return move(to: .failsafe(since: now, reason: .manual), .abortRecovery(attempt: attempt, .manual), at: now)
        case (false, .failsafe(let since, let reason)):
            guard consecutiveMisses > 0 else { return beginRecovery(at: now) }
            guard reason == .manual else { return nil }
            let unhealthy = Reason.missedPings(consecutiveMisses)
            return move(to: .failsafe(since: since, reason: unhealthy), .keepFailsafe(unhealthy), at: now)
        default:
            return nil
        }
    }

    /// The shell finished recovery number `attempt` (counters rebuilt, spool replayed, reconciled).
    /// Ignored unless that recovery is the one in progress; sales reopen once enough consecutive
    /// pings are answered too.
    public mutating func recoveryCompleted(attempt: Int, at now: Int64) -> Transition? {
        guard case .recovering(let since, let current, false) = state, current == attempt else { return nil }
        if consecutiveAnswers >= configuration.successesToRecover {
            return move(to: .healthy, .leaveFailsafe, at: now)
        }
        state = .recovering(since: since, attempt: attempt, rebuilt: true)
        return nil
    }

    /// Redis answers but lost its data (G6): from healthy or suspect, fail-safe with reason
    /// `dataLost`; the next answered ping begins a recovery (which reconciles). Ignored while already
    /// in fail-safe or recovering: every recovery checks for loss itself.
    public mutating func reportDataLoss(at now: Int64) -> Transition? {
        switch state {
        case .healthy, .suspect:
            return move(to: .failsafe(since: now, reason: .dataLost), .enterFailsafe(.dataLost), at: now)
        case .failsafe, .recovering:
            return nil
        }
    }

    /// One line for `STATUS=` and the logs.
    public var status: String {
        switch state {
        case .healthy:
            return "Redis healthy"
        case .suspect(_, let misses):
            return "Redis suspect: \(misses) ping\(misses == 1 ? "" : "s") unanswered; sales open"
        case .failsafe(_, let reason):
            let byHand = manual && reason != .manual ? " (also on by hand)" : ""
            return "FAIL-SAFE: \(reason)\(byHand); sales closed, webhooks spooled"
        case .recovering(_, let attempt, let rebuilt):
            let step =
                rebuilt
                ? "rebuilt; waiting for \(configuration.successesToRecover) consecutive answers"
                : "rebuilding counters from the ledger, replaying the spool"
            return "FAIL-SAFE, recovering (#\(attempt)): \(step)"
        }
    }

    // MARK: Steps

    private mutating func answered(at now: Int64) -> Transition? {
        consecutiveMisses = 0
        consecutiveAnswers += 1
        firstMissAt = nil
        switch state {
        case .healthy:
            return nil
        case .suspect:
            return move(to: .healthy, .clearWarning, at: now)
        case .failsafe:
            return manual ? nil : beginRecovery(at: now)
        case .recovering(_, _, let rebuilt):
            guard rebuilt, consecutiveAnswers >= configuration.successesToRecover else { return nil }
            return move(to: .healthy, .leaveFailsafe, at: now)
        }
    }

    private mutating func missed(at now: Int64) -> Transition? {
        consecutiveAnswers = 0
        consecutiveMisses += 1
        let first = firstMissAt ?? now
        firstMissAt = first
        switch state {
        case .healthy, .suspect:
            if consecutiveMisses >= configuration.missesToTrip {
                let reason = Reason.missedPings(consecutiveMisses)
                return move(to: .failsafe(since: now, reason: reason), .enterFailsafe(reason), at: now)
            }
            if now - first >= configuration.tripBudgetMs {
                let reason = Reason.unansweredFor(ms: now - first)
                return move(to: .failsafe(since: now, reason: reason), .enterFailsafe(reason), at: now)
            }
            return move(to: .suspect(firstMissAt: first, misses: consecutiveMisses), .warn, at: now)
        case .failsafe:
            return nil
        case .recovering(_, let attempt, _):
            let reason = Reason.missedPings(consecutiveMisses)
            return move(to: .failsafe(since: now, reason: reason), .abortRecovery(attempt: attempt, reason), at: now)
        }
    }

    private mutating func beginRecovery(at now: Int64) -> Transition? {
        recoveries += 1
        return move(
            to: .recovering(since: now, attempt: recoveries, rebuilt: false), .beginRecovery(attempt: recoveries), at: now)
    }

    private mutating func move(to next: State, _ action: Action, at now: Int64) -> Transition {
        let transition = Transition(from: state, to: next, action: action, at: now, firstMissAt: firstMissAt)
        state = next
        return transition
    }
}
