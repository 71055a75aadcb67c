/// The stock of one event and the decisions of DESIGN.md section 3, as a pure value.
///
/// This is the reference model of the Redis Lua scripts: the scripts do exactly what these
/// methods do, in one atomic step, and tests run both side by side on random histories.
/// It is also how the counters are rebuilt from the ledger (``init(policy:allocations:mode:orders:)``).
public struct EventStock: Sendable, Hashable {
    public let policy: CapacityPolicy
    /// C − sold. Never below 0.
    public private(set) var stock: Int
    /// Each platform's allocation: its share of C − S plus what it absorbed (or what it sold, after red alert).
    public private(set) var allocation: [Platform: Int]
    /// Tickets held per channel (accepted or absorbed orders not released, and box-office sales).
    public private(set) var sold: [SalesChannel: Int]
    public private(set) var mode: EventMode
    /// Every order and sale seen, by ``OrderRecord/key``.
    public private(set) var orders: [String: OrderRecord]

    /// A new event: the platforms' share split by `split`, nothing sold.
    public init(policy: CapacityPolicy, split: AllocationSplit = .equal) {
        self.init(policy: policy, allocations: split.allocate(policy.platformShare), mode: .open, orders: [])
    }

    /// The counters implied by a ledger: allocations and mode as recorded, sold and stock from the orders.
    ///
    /// A ledger whose sold count reached the soft cap is in red alert whatever mode it recorded last
    /// (the process may have stopped between the reservation and the ledger's mode update).
    public init(policy: CapacityPolicy, allocations: [Platform: Int], mode: EventMode, orders: [OrderRecord]) {
        self.policy = policy
        self.allocation = Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, max(allocations[$0] ?? 0, 0)) })
        self.sold = Dictionary(uniqueKeysWithValues: SalesChannel.all.map { ($0, 0) })
        self.orders = [:]
        for order in orders {
            self.orders[order.key] = order
            self.sold[order.channel, default: 0] += order.heldQuantity
        }
        let totalSold = self.sold.values.reduce(0, +)
        self.stock = max(policy.capacity - totalSold, 0)
        self.mode = mode
        // An allocation is never below what its platform holds (absorbed orders grew it).
        for platform in Platform.allCases {
            allocation[platform] = max(allocation[platform] ?? 0, sold[.platform(platform)] ?? 0)
        }
        if mode == .open && totalSold >= policy.softCap {
            enterRedAlert()
        }
    }

    /// The counters alone, as Redis holds them.
    public var counters: EventCounters {
        EventCounters(capacity: policy.capacity, stock: stock, allocation: allocation, sold: sold, mode: mode)
    }

    /// Tickets held across every channel.
    public var totalSold: Int { policy.capacity - stock }

    /// What the platforms' allocations still hold unsold: Σ max(allocation − sold, 0).
    public var unsoldAllocation: Int { counters.unsoldAllocation }

    /// The stock no platform's allocation still holds: stock − Σ max(allocation − sold, 0).
    /// The box office sells from it, and absorbed orders come out of it.
    public var freeStock: Int { stock - unsoldAllocation }

    /// Decides one platform order (the reserve script).
    public mutating func reserve(platform: Platform, orderID: String, quantity: Int) throws
        -> ReservationResult
    {
        try EventStock.validate(quantity: quantity)
        let key = OrderRecord.key(.platform(platform), orderID)
        if let prior = orders[key] {
            return ReservationResult(
                outcome: prior.outcome, quantity: prior.quantity, duplicate: true, excess: prior.excess, stockAfter: stock, enteredRedAlert: false)
        }
        let channel = SalesChannel.platform(platform)
        let soldHere = sold[channel] ?? 0
        let allocated = allocation[platform] ?? 0
        let outcome: ReservationOutcome
        var excess = 0
        if soldHere + quantity <= allocated, quantity <= stock {
            outcome = .accepted
        } else {
            excess = soldHere + quantity - allocated
            if excess <= freeStock, quantity <= stock {
                outcome = .absorbed
                allocation[platform] = allocated + excess
            } else {
                outcome = .overbooked
                excess = 0
            }
        }
        orders[key] = OrderRecord(channel: channel, orderID: orderID, quantity: quantity, outcome: outcome, excess: excess)
        var entered = false
        if outcome.holdsTickets {
            stock -= quantity
            sold[channel] = soldHere + quantity
            entered = checkSoftCap()
        }
        return ReservationResult(
            outcome: outcome, quantity: quantity, duplicate: false, excess: excess, stockAfter: stock, enteredRedAlert: entered)
    }

    /// Releases one order (the release script): a refund or cancellation, idempotent.
    /// In red alert and when closed, the platform's allocation shrinks with it (it stays = sold),
    /// so the tickets given back go to the free stock, which only the box office sells.
    public mutating func release(channel: SalesChannel, orderID: String) -> ReleaseResult {
        let key = OrderRecord.key(channel, orderID)
        guard var order = orders[key] else {
            orders[key] = OrderRecord(channel: channel, orderID: orderID, quantity: 0, outcome: .overbooked, released: true)
            return .unknownOrder
        }
        guard !order.released else { return .alreadyReleased }
        let held = order.heldQuantity
        order.released = true
        orders[key] = order
        guard held > 0 else { return .releasedNothingHeld }
        stock += held
        sold[channel, default: 0] -= held
        // A closed platform keeps allocation = sold: what it gives back goes to the box office.
        if case .platform(let platform) = channel, mode == .redAlert || mode == .closed {
            allocation[platform] = max((allocation[platform] ?? 0) - held, 0)
        }
        return .released
    }

    /// A box-office sale from the free stock (the sell script). Refused in fail-safe.
    public mutating func sellBoxOffice(saleID: String, quantity: Int) throws -> BoxOfficeResult {
        try EventStock.validate(quantity: quantity)
        let key = OrderRecord.key(.boxOffice, saleID)
        if let prior = orders[key] {
            return .duplicate(quantity: prior.quantity)
        }
        guard mode != .failsafe else { return .failsafe }
        guard quantity <= freeStock else { return .refused(available: max(freeStock, 0)) }
        orders[key] = OrderRecord(channel: .boxOffice, orderID: saleID, quantity: quantity, outcome: .accepted)
        stock -= quantity
        sold[.boxOffice, default: 0] += quantity
        return .sold(stockAfter: stock, enteredRedAlert: checkSoftCap())
    }

    /// The largest quantity one order may carry.
    public static let maximumQuantity = 10_000

    /// Throws unless `quantity` is a whole number of tickets from 1 to ``maximumQuantity``.
    public static func validate(quantity: Int) throws {
        guard (1...maximumQuantity).contains(quantity) else {
            throw DomainError("quantity must be from 1 to \(maximumQuantity), got \(quantity)")
        }
    }

    /// Sets the mode (used for fail-safe and closing by an operator).
    public mutating func setMode(_ newMode: EventMode) {
        if newMode == .redAlert || newMode == .closed {
            closePlatforms()
        }
        mode = newMode
    }

    /// Red alert: every platform's allocation becomes what it has sold.
    private mutating func enterRedAlert() {
        mode = .redAlert
        closePlatforms()
    }

    private mutating func closePlatforms() {
        for platform in Platform.allCases {
            allocation[platform] = sold[.platform(platform)] ?? 0
        }
    }

    private mutating func checkSoftCap() -> Bool {
        guard mode == .open, totalSold >= policy.softCap else { return false }
        enterRedAlert()
        return true
    }
}
