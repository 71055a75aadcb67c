/// The priority of an outbound platform call; earlier cases go first (DESIGN.md section 4, Throttler).
public enum Lane: Int, Sendable, Hashable, CaseIterable, Comparable, Codable {
    /// Closing listings when fail-safe trips (G5); may use the burst reserved for it.
    case failsafe = 0
    /// Pushing rebalanced capacities to the platforms.
    case capacityPush = 1
    /// Resolving an order whose webhook carried only a URL.
    case orderLookup = 2
    /// The nightly reconciliation's reads.
    case reconciliation = 3

    public static func < (lhs: Lane, rhs: Lane) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The name used in logs and metrics.
    public var name: String {
        switch self {
        case .failsafe: "failsafe"
        case .capacityPush: "capacity_push"
        case .orderLookup: "order_lookup"
        case .reconciliation: "reconciliation"
        }
    }
}
