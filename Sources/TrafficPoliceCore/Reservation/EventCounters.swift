/// An event's counters without its order history: what Redis holds in `event:{ID}:stock`,
/// `:allocation`, `:sold` and `:meta`, and what `event show` reports.
public struct EventCounters: Sendable, Hashable {
    public var capacity: Int
    /// C − sold.
    public var stock: Int
    public var allocation: [Platform: Int]
    /// Tickets held per channel, box office included.
    public var sold: [SalesChannel: Int]
    public var mode: EventMode

    public init(capacity: Int, stock: Int, allocation: [Platform: Int], sold: [SalesChannel: Int], mode: EventMode) {
        self.capacity = capacity
        self.stock = stock
        self.allocation = allocation
        self.sold = sold
        self.mode = mode
    }

    /// Tickets held across every channel.
    public var totalSold: Int { capacity - stock }

    /// Σ max(allocation − sold, 0) over the platforms.
    public var unsoldAllocation: Int {
        Platform.allCases.reduce(0) { $0 + max((allocation[$1] ?? 0) - (sold[.platform($1)] ?? 0), 0) }
    }

    /// The stock no platform's allocation holds: what the box office may sell.
    public var freeStock: Int { stock - unsoldAllocation }
}
