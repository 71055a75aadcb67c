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
