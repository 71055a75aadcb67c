import RedisBridge
import TrafficPoliceCore

/// Why ``Throttler/acquire(platform:lane:cost:account:)`` gave up.
public enum ThrottleError: Error, Sendable, Hashable {
    /// The cost exceeds what the lane may ever spend at once (its share of the burst).
    case costTooLarge(platform: Platform, lane: Lane, cost: Int, capacity: Int)
    /// Admission would take longer than the throttler's `maxWait`.
    case waitTooLong(platform: Platform, lane: Lane, waitMicros: Int64)
    /// Redis answered with something the throttler cannot use (not an outage: those use the local bucket).
    case redis(String)
}
