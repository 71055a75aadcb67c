/// What the reservation step decided for one platform order (DESIGN.md section 3).
public enum ReservationOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// Within the platform's allocation: the stock was decremented.
    case accepted
    /// Past the allocation, but the excess fitted in the free stock: the allocation grew by it.
    case absorbed
    /// Nothing left to cover it: nothing changed; the order is flagged for cancellation or the waitlist.
    case overbooked

    /// Whether the order holds tickets (counts as sold).
    public var holdsTickets: Bool { self != .overbooked }
}

/// The full answer of the reservation step.
public struct ReservationResult: Sendable, Hashable {
    public var outcome: ReservationOutcome
    /// The order's quantity as first decided. A repeat carries the first quantity, whatever
    /// quantity the repeat asked for: that is what the ledger records.
    public var quantity: Int
    /// True when the order id had been seen: this is its first outcome, and nothing changed.
    public var duplicate: Bool
    /// For `absorbed`: how far the order went past the allocation (what the allocation grew by).
    public var excess: Int
    /// The event's stock (C − sold) after the step.
    public var stockAfter: Int
    /// True when this step made sold reach the soft cap and put the event in red alert.
    public var enteredRedAlert: Bool

    public init(
        outcome: ReservationOutcome, quantity: Int, duplicate: Bool, excess: Int, stockAfter: Int,
        enteredRedAlert: Bool
    ) {
        self.outcome = outcome
        self.quantity = quantity
        self.duplicate = duplicate
        self.excess = excess
        self.stockAfter = stockAfter
        self.enteredRedAlert = enteredRedAlert
    }

    /// 1 for accepted and absorbed, 0 for overbooked — the script's verdict.
    public var verdict: Int { outcome.holdsTickets ? 1 : 0 }
}

/// The answer of the release step (a refund or cancellation).
public enum ReleaseResult: String, Sendable, Hashable, Codable {
    /// The order held tickets; they are back in the stock.
    case released
    /// The order held nothing (it was overbooked); it is now marked released.
    case releasedNothingHeld = "released_nothing_held"
    /// The order had already been released: nothing changed.
    case alreadyReleased = "already_released"
    /// The order was never seen; a tombstone is kept so a late reservation of it is refused.
    case unknownOrder = "unknown_order"
}

/// The answer of a box-office sale.
public enum BoxOfficeResult: Sendable, Hashable {
    /// Sold; the stock after the sale.
    case sold(stockAfter: Int, enteredRedAlert: Bool)
    /// This sale id was already sold: nothing changed.
    case duplicate(quantity: Int)
    /// The free stock cannot cover it; what is available now.
    case refused(available: Int)
    /// The event is in fail-safe: no box-office sale is allowed.
    case failsafe
}

/// The answer of the amend step: a platform order whose ticket count changed (see `EventStock.amend`).
public struct AmendmentResult: Sendable, Hashable {
    /// What the step did.
    public enum Change: String, Sendable, Hashable, Codable, CaseIterable {
        /// The order holds more tickets (or holds again: a new order, or a released one back).
        case increased
        /// The order holds fewer tickets (0: it is released).
        case decreased
        /// The order already held the target (a first amendment to what it holds, a tombstone of 0).
        case unchanged
        /// The increase was overbooked: the order keeps what it held, and a repeat is refused again.
        case refused
        /// The same target as the last one asked: nothing changed.
        case duplicate
        /// An amendment older (by version) than the order's last one: nothing changed.
        case stale
    }

    public var change: Change
    /// The order after the step (what Redis and the ledger hold for it).
    public var order: OrderRecord
    /// Tickets the order held before the step.
    public var previousQuantity: Int
    /// How much this step grew the platform's allocation (an increase absorbed from the free stock).
    public var excess: Int
    /// The event's stock (C − sold) after the step.
    public var stockAfter: Int
    /// True when this step made sold reach the soft cap and put the event in red alert.
    public var enteredRedAlert: Bool

    public init(
        change: Change, order: OrderRecord, previousQuantity: Int, excess: Int, stockAfter: Int, enteredRedAlert: Bool
    ) {
        self.change = change
        self.order = order
        self.previousQuantity = previousQuantity
        self.excess = excess
        self.stockAfter = stockAfter
        self.enteredRedAlert = enteredRedAlert
    }

    /// Tickets the order holds after the step.
    public var quantity: Int { order.heldQuantity }

    /// Whether the order holds less than the platform asked for: its increase (or itself) was
    /// overbooked and must be cancelled, refused or moved to the waitlist on the platform.
    public var overbooked: Bool { order.heldQuantity < order.target }
}

/// What a quota transfer did (``EventStock/transfer(from:to:tickets:fence:keepingAtLeast:)``).
public struct TransferResult: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// The fence was current and the event open: `moved` tickets (possibly 0) moved.
        case transferred
        /// The fence was not the current counter: nothing moved.
        case staleFence = "stale_fence"
        /// The event is not open: nothing moved.
        case notOpen = "not_open"
    }

    public var outcome: Outcome
    /// Tickets moved from the donor's allocation to the receiver's (0 unless `transferred`).
    public var moved: Int
    /// The event's fence counter at the step (the latest token granted).
    public var fence: Int
    /// Every platform's allocation after the step.
    public var allocation: [Platform: Int]

    public init(outcome: Outcome, moved: Int, fence: Int, allocation: [Platform: Int]) {
        self.outcome = outcome
        self.moved = moved
        self.fence = fence
        self.allocation = allocation
    }
}
