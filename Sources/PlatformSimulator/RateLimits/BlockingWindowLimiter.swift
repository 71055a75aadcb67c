/// Luma's limiter: at most `limit` requests per key in a fixed `window`; the request over the
/// limit is refused and the key is then blocked for `block` seconds (every request refused).
public struct BlockingWindowLimiter: Sendable {
    /// The outcome of one request, with what the `X-RateLimit-*` headers report.
    public enum Decision: Equatable, Sendable {
        /// Admitted: `remaining` left in the window that resets at `resetAt`.
        case admitted(limit: Int, remaining: Int, resetAt: Double)
        /// Refused: blocked until `blockedUntil`.
        case blocked(limit: Int, blockedUntil: Double)
    }

    public var limit: Int
    public var window: Double
    public var block: Double
    private var keys: [String: (start: Double, count: Int, blockedUntil: Double?)] = [:]

    public init(limit: Int, window: Double, block: Double) {
        self.limit = limit
        self.window = window
        self.block = block
    }

    public mutating func admit(_ key: String, now: Double) -> Decision {
        var current = keys[key] ?? (start: now, count: 0, blockedUntil: nil)
        if let until = current.blockedUntil {
            if now < until { return .blocked(limit: limit, blockedUntil: until) }
            current = (start: now, count: 0, blockedUntil: nil)
        }
        if now >= current.start + window { current = (start: now, count: 0, blockedUntil: nil) }
        guard current.count < limit else {
            let until = now + block
            keys[key] = (start: current.start, count: current.count, blockedUntil: until)
            return .blocked(limit: limit, blockedUntil: until)
        }
        current.count += 1
        keys[key] = current
        return .admitted(limit: limit, remaining: limit - current.count, resetAt: current.start + window)
    }

    public mutating func reset() { keys = [:] }
}
