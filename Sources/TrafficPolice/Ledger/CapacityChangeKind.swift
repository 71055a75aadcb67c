/// What one row of an event's capacity history (`capacity_changes`) records.
public enum CapacityChangeKind: String, Sendable, Codable, CaseIterable {
    /// A platform's published capacity went down.
    case shrink
    /// A platform's published capacity went up.
    case grow
    /// A platform was closed (its capacity published as what it sold).
    case close
    /// Unsold allocation moved from one platform to another.
    case transfer
    /// The event entered red alert (an event-wide row).
    case redAlert = "red_alert"
    /// A capacity could not be published to a platform.
    case publishFailed = "publish_failed"
    /// The rebalancer refused a step (stale fence, event not open…).
    case refused

    /// Whether a row of this kind sets the listing's published capacity.
    public var publishesCapacity: Bool { self == .shrink || self == .grow || self == .close }
}
