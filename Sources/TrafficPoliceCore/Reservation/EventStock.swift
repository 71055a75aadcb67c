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
    /// The fencing counter: the last token granted to a rebalancer (0 before the first grant).
    /// Only a transfer carrying exactly this token moves quota (``transfer(from:to:tickets:fence:keepingAtLeast:)``).
    public private(set) var fence: Int = 0

    /// A new event: the platforms' share split by `split`, nothing sold.
    public init(policy: CapacityPolicy, split: AllocationSplit = .equal) {
        self.init(policy: policy, allocations: split.allocate(policy.platformShare), mode: .open, orders: [])
    }

    /// The counters implied by a ledger: allocations and mode as recorded, sold and stock from the orders.
    ///
    /// A ledger whose sold count reached the soft cap is in red alert whatever mode it recorded last
    /// (the process may have stopped between the reservation and the ledger's mode update); in red
    /// alert and when closed every allocation is what its platform holds, as the scripts keep it.
    /// `fence` is the highest fencing token ever granted for the event (a rebuild must never hand
    /// out a token again, or a rebalancer that lost its lock could move quota).
    public init(
        policy: CapacityPolicy, allocations: [Platform: Int], mode: EventMode, orders: [OrderRecord], fence: Int = 0
    ) {
        self.policy = policy
        self.fence = max(fence, 0)
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
        } else if mode == .redAlert || mode == .closed {
            // A closed platform's allocation is what it holds, whatever order the ledger's writes
            // of an absorption and of the close were committed in.
            closePlatforms()
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
        let (outcome, excess) = take(quantity, on: platform)
        orders[key] = OrderRecord(channel: channel, orderID: orderID, quantity: quantity, outcome: outcome, excess: excess)
        let entered = outcome.holdsTickets && checkSoftCap()
        return ReservationResult(
            outcome: outcome, quantity: quantity, duplicate: false, excess: excess, stockAfter: stock, enteredRedAlert: entered)
    }

    /// Decides `quantity` new tickets on `platform` by the reservation rule and takes them when
    /// they are covered: accepted within the allocation, absorbed (the allocation grows by the
    /// excess) from the free stock, or overbooked (nothing changes, excess 0).
    private mutating func take(_ quantity: Int, on platform: Platform) -> (ReservationOutcome, excess: Int) {
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
                return (.overbooked, 0)
            }
        }
        stock -= quantity
        sold[channel] = soldHere + quantity
        return (outcome, excess)
    }

    /// Gives `quantity` tickets of `channel` back to the stock, as a release does: while open they
    /// return to the platform's unsold allocation; in red alert and when closed the allocation
    /// shrinks with them (it stays = sold), so they go to the free stock, which only the box office sells.
    private mutating func giveBack(_ quantity: Int, of channel: SalesChannel) {
        guard quantity > 0 else { return }
        stock += quantity
        sold[channel, default: 0] -= quantity
        if case .platform(let platform) = channel, mode == .redAlert || mode == .closed {
            allocation[platform] = max((allocation[platform] ?? 0) - quantity, 0)
        }
    }

    /// Amends one platform order: the platform now says it holds `quantity` tickets (the amend script).
    ///
    /// An amendment states the order's whole new quantity, not a difference, so it is idempotent:
    /// the decision is keyed on the target. The rules (G1 — Σ sold ≤ C, stock ≥ 0 — holds at every step):
    /// - **Stale**: `version` below the order's last amendment version → nothing changes (`stale`).
    ///   Versions are the platform's own clock (0 when unknown, which is never stale against 0).
    /// - **Duplicate**: the same target as the platform last asked for (``OrderRecord/target``: the
    ///   first reservation's quantity, 0 after a release, or the last amendment) → nothing changes
    ///   (`duplicate`), except that the order's version moves up to `version`. A repeat of a refused
    ///   increase is refused again, as a repeat of an overbooked order is.
    /// - **Decrease** (target below what the order holds; 0 is a release): always succeeds. The
    ///   tickets go back as a release gives them back (to the platform's allocation while open, to
    ///   the free stock in red alert and when closed); at 0 the order is marked released.
    ///   A 0 for an order never seen leaves a tombstone, as a release does (`unchanged`).
    /// - **Increase** by d = target − held (a new order, a released or overbooked order coming back
    ///   has held = 0): the d extra tickets are decided exactly as a new order of d tickets on the
    ///   platform — accepted within the allocation, absorbed from the free stock (the allocation
    ///   grows by the excess), in any mode (in red alert and when closed the allocation = sold, so
    ///   only the free stock can cover it). When nothing covers them the increase is **refused**:
    ///   the order keeps its old quantity (and outcome), only its target records what was asked, and
    ///   the outcome is `refused` (overbooked: the platform must cancel or waitlist the extra tickets).
    ///   The step that makes sold reach the soft cap enters red alert.
    /// - Equal to what it holds (after a refused increase, or a first amendment) → `unchanged`.
    ///
    /// - Parameters:
    ///   - quantity: the tickets the order holds now on the platform, 0 to ``maximumQuantity``.
    ///   - version: the platform's version of this state (ms), or 0 when the platform gives none.
    /// - Returns: the change, the order after it and the event's stock.
    public mutating func amend(platform: Platform, orderID: String, quantity: Int, version: Int64 = 0) throws
        -> AmendmentResult
    {
        try EventStock.validate(amendedQuantity: quantity, version: version)
        let channel = SalesChannel.platform(platform)
        let key = OrderRecord.key(channel, orderID)
        let prior = orders[key]
        let held = prior?.heldQuantity ?? 0
        func result(_ change: AmendmentResult.Change, _ order: OrderRecord, excess: Int = 0, entered: Bool = false)
            -> AmendmentResult
        {
            AmendmentResult(
                change: change, order: order, previousQuantity: held, excess: excess, stockAfter: stock,
                enteredRedAlert: entered)
        }
        if let prior, version < prior.version { return result(.stale, prior) }
        if var prior, prior.target == quantity {
            prior.version = max(prior.version, version)
            orders[key] = prior
            return result(.duplicate, prior)
        }
        var order =
            prior ?? OrderRecord(channel: channel, orderID: orderID, quantity: 0, outcome: .overbooked, released: true)
        order.target = quantity
        order.version = max(order.version, version)
        order.revision += 1
        let change: AmendmentResult.Change
        var excess = 0
        var entered = false
        if quantity < held {
            giveBack(held - quantity, of: channel)
            if quantity == 0 { order.released = true } else { order.quantity = quantity }
            change = .decreased
        } else if quantity == held {
            if quantity == 0 { order.released = true }
            change = .unchanged
        } else {
            let (outcome, grown) = take(quantity - held, on: platform)
            if outcome.holdsTickets {
                excess = grown
                order.excess += grown
                // Tickets that came back after nothing was held take the new decision's outcome.
                order.outcome = held == 0 || outcome == .absorbed ? outcome : order.outcome
                order.quantity = quantity
                order.released = false
                entered = checkSoftCap()
                change = .increased
            } else {
                if prior == nil {
                    order.quantity = quantity
                    order.released = false
                }
                change = .refused
            }
        }
        orders[key] = order
        return result(change, order, excess: excess, entered: entered)
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
        order.target = 0
        if order.revision > 0 { order.revision += 1 }
        orders[key] = order
        guard held > 0 else { return .releasedNothingHeld }
        giveBack(held, of: channel)
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

    /// Throws unless `quantity` is from 0 (a release) to ``maximumQuantity``: what an amendment may ask for.
    /// and `version` from 0 to ``maximumVersion``.
    public static func validate(amendedQuantity quantity: Int, version: Int64 = 0) throws {
        guard (0...maximumQuantity).contains(quantity) else {
            throw DomainError("an amended quantity must be from 0 to \(maximumQuantity), got \(quantity)")
        }
        guard (0...maximumVersion).contains(version) else {
            throw DomainError("an amendment version must be from 0 to \(maximumVersion), got \(version)")
        }
    }

    /// The largest amendment version: 2^53, so that Lua (whose numbers are doubles) compares it exactly.
    public static let maximumVersion: Int64 = 1 << 53

    /// Grants the next fencing token (the grant script): increments the event's fence counter and
    /// returns it. A rebalancer takes one with the event's lock; every grant makes every earlier
    /// token stale, so a rebalancer that lost its lock (paused, partitioned, expired) moves nothing.
    public mutating func grantFence() -> Int {
        fence += 1
        return fence
    }

    /// Moves unsold allocation from one platform to another (the transfer script), in one step.
    ///
    /// The rules, in order:
    /// - **Stale fence**: `fence` is not the current counter (a later grant happened, or none
    ///   did) → nothing changes (`staleFence`).
    /// - **Not open**: the mode is not `open` (fail-safe freezes quota; in red alert and when closed
    ///   every allocation is what its platform sold) → nothing changes (`notOpen`).
    /// - Otherwise it moves `min(tickets, allocation(from) − max(sold(from), keepingAtLeast))`, never
    ///   below 0, from the donor's allocation to the receiver's (`transferred`, possibly 0 tickets).
    ///   `keepingAtLeast` is the donor's published capacity: a donor never holds less allocation than
    ///   it sold or may still be offering, so a sale made since the rebalancer's snapshot makes it
    ///   move less, or nothing.
    ///
    /// Stock, sold and the free stock never change (G1 untouched); Σ allocation is preserved.
    /// - Throws: `DomainError` when the platforms are the same, `tickets` is not from 1, `fence`
    ///   not from 1 or `keepingAtLeast` not from 0 (each at most ``maximumVersion``).
    public mutating func transfer(from donor: Platform, to receiver: Platform, tickets: Int, fence: Int, keepingAtLeast: Int)
        throws -> TransferResult
    {
        try EventStock.validateTransfer(from: donor, to: receiver, tickets: tickets, fence: fence, keepingAtLeast: keepingAtLeast)
        func result(_ outcome: TransferResult.Outcome, _ moved: Int) -> TransferResult {
            TransferResult(outcome: outcome, moved: moved, fence: self.fence, allocation: allocation)
        }
        guard fence == self.fence else { return result(.staleFence, 0) }
        guard mode == .open else { return result(.notOpen, 0) }
        let held = allocation[donor] ?? 0
        let floor = max(sold[.platform(donor)] ?? 0, keepingAtLeast)
        let moved = max(min(tickets, held - floor), 0)
        if moved > 0 {
            allocation[donor] = held - moved
            allocation[receiver, default: 0] += moved
        }
        return result(.transferred, moved)
    }

    /// Throws unless a transfer's arguments are well formed (see ``transfer(from:to:tickets:fence:keepingAtLeast:)``).
    public static func validateTransfer(from donor: Platform, to receiver: Platform, tickets: Int, fence: Int, keepingAtLeast: Int)
        throws
    {
        let limit = Int(maximumVersion)
        guard donor != receiver else { throw DomainError("a transfer needs two platforms, got \(donor.rawValue) twice") }
        guard (1...limit).contains(tickets) else { throw DomainError("transfer tickets must be from 1, got \(tickets)") }
        guard (1...limit).contains(fence) else { throw DomainError("a transfer fence must be from 1, got \(fence)") }
        guard (0...limit).contains(keepingAtLeast) else {
            throw DomainError("a transfer's kept capacity must be from 0, got \(keepingAtLeast)")
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
