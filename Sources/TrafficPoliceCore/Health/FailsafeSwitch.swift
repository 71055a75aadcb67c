/// The operator's fail-safe switch as the ledger holds it, shared by every daemon instance: while
/// it is on, every instance stays in fail-safe whatever Redis does (G5).
public struct FailsafeSwitch: Sendable, Hashable, Codable {
    /// Whether an operator turned fail-safe on.
    public var on: Bool
    /// Who changed it last; nil when it was never changed.
    public var changedBy: String?
    /// Why, as the operator gave it.
    public var reason: String?
    /// When it was changed last (ISO 8601, UTC); nil when it was never changed.
    public var changedAt: String?

    public init(on: Bool, changedBy: String? = nil, reason: String? = nil, changedAt: String? = nil) {
        self.on = on
        self.changedBy = changedBy
        self.reason = reason
        self.changedAt = changedAt
    }

    enum CodingKeys: String, CodingKey {
        case on
        case changedBy = "changed_by"
        case reason
        case changedAt = "changed_at"
    }

    /// Every key, `null` when unset (scripts read a fixed shape).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(on, forKey: .on)
        try container.encode(changedBy, forKey: .changedBy)
        try container.encode(reason, forKey: .reason)
        try container.encode(changedAt, forKey: .changedAt)
    }
}

/// The switch and the daemon instances seen lately: whether sales are closed everywhere (a
/// box-office sale made outside a daemon must not happen while any of them is in fail-safe).
public struct FailsafeOverview: Sendable, Hashable, Codable {
    /// How recent an instance's report must be for the instance to count as running.
    public static let freshness: Duration = .seconds(10)

    public var failsafeSwitch: FailsafeSwitch
    /// The instances seen within ``freshness`` (or the window asked for), by id.
    public var instances: [DaemonInstanceReport]
    /// The switch is on or a running instance reports fail-safe.
    public let failsafe: Bool

    public init(failsafeSwitch: FailsafeSwitch, instances: [DaemonInstanceReport]) {
        self.failsafeSwitch = failsafeSwitch
        self.instances = instances
        self.failsafe = failsafeSwitch.on || instances.contains(where: \.failsafe)
    }

    /// Why sales are closed, in one phrase; nil when they are not.
    public var reason: String? {
        if failsafeSwitch.on {
            let by = failsafeSwitch.changedBy.map { " by \($0)" } ?? ""
            let why = failsafeSwitch.reason.map { " (\($0))" } ?? ""
            return "fail-safe was turned on\(by)\(why)"
        }
        let closed = instances.filter(\.failsafe)
        guard let first = closed.first else { return nil }
        let others = closed.count > 1 ? " and \(closed.count - 1) other instance\(closed.count == 2 ? "" : "s")" : ""
        return "daemon \(first.hostname) (pid \(first.pid))\(others) in fail-safe: \(first.status)"
    }

    enum CodingKeys: String, CodingKey {
        case failsafeSwitch = "switch"
        case instances, failsafe
    }
}
