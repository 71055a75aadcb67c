/// One order on which a platform and the ledger disagree.
public struct OrderDrift: Sendable, Hashable, Codable {
    /// How they disagree.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The platform holds tickets for it; the ledger holds none (never recorded, or released).
        case missing
        /// The ledger holds tickets for it; the platform says it holds none (refunded, cancelled,
        /// declined, waitlisted, not YES).
        case released
        /// Both hold tickets, not the same number.
        case changed
        /// The ledger holds tickets for an order the platform's complete list does not show.
        case unlisted
        /// The platform reports a state this version does not know.
        case unknownState = "unknown_state"
    }

    /// What applying the platform's state to the order is, through the workers' path (`EventDesk`).
    public enum Fix: Sendable, Hashable {
        /// `EventDesk.apply`: a new order, decided by the reservation step.
        case reserve(quantity: Int)
        /// `EventDesk.amend` to the quantity (0 releases), with the platform state's version.
        case amend(quantity: Int, version: Int64)
        /// `EventDesk.release`: a refund or cancellation.
        case release
    }

    public var orderID: String
    public var kind: Kind
    /// Tickets the platform says the order holds (nil: an unknown state; 0 when unlisted).
    public var platformQuantity: Int?
    /// The platform's status of the order (`unlisted` when it does not list it).
    public var platformStatus: String
    /// Tickets the ledger's order holds.
    public var ledgerQuantity: Int
    /// The quantity the ledger last recorded the platform asking for (0 when released); nil when
    /// the ledger has no record of the order.
    public var ledgerTarget: Int?
    /// The platform state's version (see ``PlatformOrderState/version``).
    public var version: Int64

    public init(
        orderID: String, kind: Kind, platformQuantity: Int?, platformStatus: String, ledgerQuantity: Int,
        ledgerTarget: Int?, version: Int64 = 0
    ) {
        self.orderID = orderID
        self.kind = kind
        self.platformQuantity = platformQuantity
        self.platformStatus = platformStatus
        self.ledgerQuantity = ledgerQuantity
        self.ledgerTarget = ledgerTarget
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id", kind, platformQuantity = "platform_quantity", platformStatus = "platform_status"
        case ledgerQuantity = "ledger_quantity", ledgerTarget = "ledger_target", version
    }

    /// How the platform's state is applied, the way the queue workers apply that platform's orders:
    /// nil when reconciliation must not guess (an unlisted order, an unknown state).
    ///
    /// Meetup RSVPs are always amended with their `updated` (as the poller's jobs are); an
    /// Eventbrite order or Luma guest the ledger never saw is reserved, a known one amended, and
    /// one that holds nothing now released.
    public func fix(on platform: Platform) -> Fix? {
        guard let quantity = platformQuantity, kind != .unlisted, kind != .unknownState else { return nil }
        if platform == .meetup { return .amend(quantity: quantity, version: version) }
        if quantity == 0 { return .release }
        return ledgerTarget == nil ? .reserve(quantity: quantity) : .amend(quantity: quantity, version: version)
    }
}
