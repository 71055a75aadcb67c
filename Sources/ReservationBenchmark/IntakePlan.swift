import TrafficPoliceCore
import NIOCore

/// What every connection of one intake run does; shared (read-only, plus the closed-loop cursor).
struct IntakePlan: Sendable {
    enum Mode: Sendable {
        /// Request i is due at t0 + i / rate, whatever came back before (no coordinated omission).
        case open(rate: Double)
        /// Each connection keeps `depth` requests in flight, back to back.
        case closed
    }

    let mode: Mode
    let requests: [IntakeRequest]
    let connections: Int
    /// Requests in flight per connection (1: no pipelining, as a reverse proxy's keep-alive pool).
    let depth: Int
    /// Open loop: the span of scheduled send times. Closed loop: no new request after it.
    let duration: TimeAmount
    /// How long after `duration` a connection waits for its last answers before giving up.
    let grace: TimeAmount
    /// Closed loop: the next request index, shared by every connection.
    let cursor = Locked(0)

    /// Open loop: the scheduled send time of request `index`.
    func due(_ index: Int, from t0: NIODeadline) -> NIODeadline {
        guard case .open(let rate) = mode else { return t0 }
        return t0 + .nanoseconds(Int64(Double(index) * 1e9 / rate))
    }

    /// Closed loop: takes the next unsent request, or nil when all are taken.
    func take() -> Int? {
        cursor.withLock { next in
            guard next < requests.count else { return nil }
            defer { next += 1 }
            return next
        }
    }
}

/// Sent to every connection's pipeline once all are connected: the common start time.
struct IntakeStart: Sendable {
    let t0: NIODeadline
}
