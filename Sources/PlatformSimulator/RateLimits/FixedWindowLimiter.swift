/// Counts calls per key in fixed windows: a key's window opens at its first call and lasts
/// `window` seconds; at most `limit` calls are admitted in it. Eventbrite's hourly budget per token.
public struct FixedWindowLimiter: Sendable {
    /// The outcome of one call.
    public enum Decision: Equatable, Sendable {
        /// Admitted; `remaining` calls are left in the window, which resets at `resetAt`.
        case admitted(remaining: Int, resetAt: Double)
        /// Refused until `resetAt`.
        case limited(resetAt: Double)
    }

    public var limit: Int
    public var window: Double
    private var windows: [String: (start: Double, count: Int)] = [:]

    public init(limit: Int, window: Double) {
        self.limit = limit
        self.window = window
    }

    /// Counts one call by `key` at `now` if the window has room.
    public mutating func admit(_ key: String, now: Double) -> Decision {
        var current = windows[key] ?? (start: now, count: 0)
        if now >= current.start + window { current = (start: now, count: 0) }
        let resetAt = current.start + window
        guard current.count < limit else {
            windows[key] = current
            return .limited(resetAt: resetAt)
        }
        current.count += 1
        windows[key] = current
        return .admitted(remaining: limit - current.count, resetAt: resetAt)
    }

    public mutating func reset() { windows = [:] }
}
