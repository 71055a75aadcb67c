/// When a failed job is tried again: exponential backoff with jitter, capped, and a dead letter
/// after `maxAttempts` attempts. Pure: the randomness comes from the caller's generator.
///
/// The ceiling of attempt n (1-based) is `min(cap, base × 2^(n−1))`.
/// - `full` jitter waits a uniform time in `0...ceiling`.
/// - `decorrelated` jitter waits a uniform time in `base...max(base, 3 × previous delay)`, capped
///   (the previous delay is `base` before the first retry).
/// - `none` waits the ceiling itself.
public struct RetrySchedule: Sendable, Hashable {
    /// How the delay is spread around the exponential ceiling.
    public enum Jitter: String, Sendable, Hashable, CaseIterable {
        case none, full, decorrelated
    }

    /// What to do after a failed attempt.
    public enum Decision: Sendable, Hashable {
        /// Try again after this delay.
        case retry(after: Duration)
        /// Give up: the job goes to the dead letters.
        case deadLetter
    }

    /// The first retry's ceiling.
    public var base: Duration
    /// No delay is ever longer than this.
    public var cap: Duration
    /// Attempts in all (the first one included); the failure of attempt `maxAttempts` dead-letters.
    public var maxAttempts: Int
    public var jitter: Jitter

    /// Defaults: base 1 s, cap 5 min, 8 attempts, full jitter (about 4 min of retries in the worst case).
    public init(base: Duration = .seconds(1), cap: Duration = .seconds(300), maxAttempts: Int = 8, jitter: Jitter = .full)
        throws
    {
        guard base > .zero else { throw DomainError("retry base must be positive") }
        guard cap >= base else { throw DomainError("retry cap must be at least the base") }
        guard maxAttempts >= 1 else { throw DomainError("maxAttempts must be at least 1") }
        self.init(unchecked: base, cap: cap, maxAttempts: maxAttempts, jitter: jitter)
    }

    /// The defaults: base 1 s, cap 5 min, 8 attempts, full jitter.
    public static let standard = RetrySchedule(unchecked: .seconds(1), cap: .seconds(300), maxAttempts: 8, jitter: .full)

    private init(unchecked base: Duration, cap: Duration, maxAttempts: Int, jitter: Jitter) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
        self.jitter = jitter
    }

    /// The exponential ceiling of the delay after attempt `attempt` (1-based), never above `cap`.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let baseMs = Self.milliseconds(base)
        let capMs = Self.milliseconds(cap)
        let shift = max(0, min(attempt - 1, 62))
        let (scaled, overflow) = baseMs.multipliedReportingOverflow(by: Int64(1) << shift)
        return .milliseconds(overflow ? capMs : min(scaled, capMs))
    }

    /// The decision after attempt `attempt` (1-based) failed. `previousDelay` is the delay that came
    /// before this attempt (nil for the first), used by decorrelated jitter.
    public func decision(
        afterAttempt attempt: Int, previousDelay: Duration? = nil, using generator: inout some RandomNumberGenerator
    ) -> Decision {
        guard attempt < maxAttempts else { return .deadLetter }
        let capMs = Self.milliseconds(cap)
        switch jitter {
        case .none:
            return .retry(after: ceiling(afterAttempt: attempt))
        case .full:
            let top = Self.milliseconds(ceiling(afterAttempt: attempt))
            return .retry(after: .milliseconds(Int64.random(in: 0...top, using: &generator)))
        case .decorrelated:
            let baseMs = Self.milliseconds(base)
            let previous = max(baseMs, previousDelay.map(Self.milliseconds) ?? baseMs)
            let (tripled, overflow) = previous.multipliedReportingOverflow(by: 3)
            let top = overflow ? capMs : min(tripled, capMs)
            return .retry(after: .milliseconds(Int64.random(in: min(baseMs, top)...top, using: &generator)))
        }
    }

    /// A duration in whole milliseconds (rounded down, saturating).
    public static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return scaled + attoseconds / 1_000_000_000_000_000
    }
}
