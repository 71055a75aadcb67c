import TrafficPoliceCore

/// The Redis keys of one event. Every key carries the event id in a hash tag (`event:{ID}:…`),
/// so all the keys a script touches lie in one Redis Cluster slot.
public struct EventKeys: Sendable, Hashable {
    public let event: EventID

    public init(_ event: EventID) { self.event = event }

    private func key(_ suffix: String) -> String { "event:{\(event.rawValue)}:\(suffix)" }

    /// String: C − sold.
    public var stock: String { key("stock") }
    /// Hash: platform → allocation.
    public var allocation: String { key("allocation") }
    /// Hash: channel (platforms and `box_office`) → tickets held.
    public var sold: String { key("sold") }
    /// Hash: `channel:orderID` → `outcome|quantity|excess|released`.
    public var orders: String { key("orders") }
    /// Hash: `capacity`, `safety_stock`, `soft_cap`, `mode`, `fence` (the last fencing token granted).
    public var meta: String { key("meta") }
    /// String: the token of the rebalancer holding the event's lock (`EventLock`), with a TTL.
    /// Not one of ``all``: a rebuild of the counters leaves it alone.
    public var rebalanceLock: String { key("rebalance-lock") }

    /// The keys in the order every script takes them.
    public var all: [String] { [stock, allocation, sold, orders, meta] }
}
