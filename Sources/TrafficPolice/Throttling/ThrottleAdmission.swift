/// What ``Throttler/acquire(platform:lane:cost:account:)`` admitted.
public struct ThrottleAdmission: Sendable, Hashable {
    /// Redis's clock (µs since the epoch) when the shared bucket admitted; nil when the local fallback did.
    public var redisTimeMicros: Int64?
    /// How long the call waited in the throttler.
    public var waited: Duration
}
