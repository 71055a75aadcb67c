import NIOCore

/// What the connections of one run measured; each connection merges its own part once, at its end.
struct IntakeTally: Sendable {
    /// Per answered request: from its scheduled (open) or actual (closed) send time to the end of its response.
    var latencies: [Int64] = []
    var statuses: [UInt: Int] = [:]
    /// Requests sent or due but never answered (connection lost, or still pending after the grace time).
    var unanswered = 0
    var errors: [String] = []
    var lastAnswer: NIODeadline?
    /// The largest delay between a request's due time and its actual send (open loop).
    var maxSendLag: Int64 = 0

    mutating func merge(_ other: IntakeTally) {
        latencies += other.latencies
        statuses.merge(other.statuses, uniquingKeysWith: +)
        unanswered += other.unanswered
        errors += other.errors
        if let a = other.lastAnswer, lastAnswer.map({ a > $0 }) ?? true { lastAnswer = a }
        maxSendLag = max(maxSendLag, other.maxSendLag)
    }
}
