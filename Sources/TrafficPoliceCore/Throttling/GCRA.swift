/// The generic cell rate algorithm: a leaky bucket kept as one number, the theoretical arrival time (TAT).
///
/// Each cost unit occupies `emissionIntervalMicros`; a request of cost `c` at `now` moves the TAT to
/// `max(tat, now) + c × interval` and is admitted when that lies no further ahead of `now` than the
/// lane's capacity × interval. So the admitted cost in any closed window of one period is at most
/// `effectiveLimit + burst` (see ``Budget``). Times are microseconds on any clock that all callers share.
/// `RedisThrottleScripts.acquire` is the same step in Lua; this is its reference model.
public struct GCRA: Sendable, Hashable {
    public let budget: Budget

    public init(budget: Budget) { self.budget = budget }

    /// The outcome of one step.
    public struct Decision: Sendable, Hashable {
        /// Whether the request may go now.
        public var allowed: Bool
        /// The TAT to store (unchanged when refused).
        public var tat: Int64
        /// When refused, the wait after which the same request is admitted if nothing else is;
        /// nil when the cost exceeds the lane's capacity and can never be admitted. Zero when allowed.
        public var retryAfterMicros: Int64?

        public init(allowed: Bool, tat: Int64, retryAfterMicros: Int64?) {
            self.allowed = allowed
            self.tat = tat
            self.retryAfterMicros = retryAfterMicros
        }
    }

    /// How far ahead of now the lane may push the TAT.
    public func toleranceMicros(for lane: Lane) -> Int64 {
        Int64(budget.capacity(for: lane)) * budget.emissionIntervalMicros
    }

    /// Whether a request of `cost` can ever be admitted on `lane`.
    public func fits(cost: Int, lane: Lane) -> Bool { cost >= 0 && cost <= budget.capacity(for: lane) }

    /// One step: admit a request of `cost` on `lane` at `now`, given the stored `tat` and a pause
    /// (a 429 or RATE_LIMITED seen: nothing is admitted before `pausedUntil`).
    public func admit(cost: Int, lane: Lane, at now: Int64, tat: Int64, pausedUntil: Int64 = 0) -> Decision {
        guard fits(cost: cost, lane: lane) else { return Decision(allowed: false, tat: tat, retryAfterMicros: nil) }
        let newTAT = max(tat, now) + Int64(cost) * budget.emissionIntervalMicros
        // When the bucket admits: the pause's end, or the TAT's reaching the tolerance, whichever is later.
        let wait = max(pausedUntil - now, newTAT - toleranceMicros(for: lane) - now, 0)
        if wait == 0 { return Decision(allowed: true, tat: newTAT, retryAfterMicros: 0) }
        return Decision(allowed: false, tat: tat, retryAfterMicros: wait)
    }
}
