#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A platform's sales velocity: an exponentially weighted rate of tickets (or RSVP changes) per
/// second, with time constant `window`.
///
/// Each `record(_:at:)` decays the rate by `e^(−Δt/window)` and adds `count / window`, so a steady
/// flow of λ per second settles at λ, and a flow that stops fades to a third within one window.
/// Times are milliseconds on any monotonic clock; a time earlier than the last one counts as no time.
public struct SalesVelocity: Sendable, Hashable {
    /// The time constant, in milliseconds (at least 1).
    public let windowMilliseconds: Int64
    private var rate: Double = 0
    private var lastMilliseconds: Int64?

    /// Creates a velocity at rest with time constant `windowMilliseconds` (default 60 s).
    public init(windowMilliseconds: Int64 = 60_000) {
        self.windowMilliseconds = max(1, windowMilliseconds)
    }

    /// Adds `count` sales made at `now`.
    public mutating func record(_ count: Int, at now: Int64) {
        rate = decayed(to: now) + Double(max(0, count)) * 1_000 / Double(windowMilliseconds)
        lastMilliseconds = max(now, lastMilliseconds ?? now)
    }

    /// The rate per second at `now` (it decays while nothing is recorded).
    public func perSecond(at now: Int64) -> Double {
        decayed(to: now)
    }

    private func decayed(to now: Int64) -> Double {
        guard let last = lastMilliseconds, now > last else { return rate }
        return rate * exp(-Double(now - last) / Double(windowMilliseconds))
    }
}
