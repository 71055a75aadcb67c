/// What a platform says about one event's orders compared with the ledger's orders of that event
/// on that platform (pure): the nightly reconciliation's drift (DESIGN.md sections 3 and 4).
///
/// The ledger's view of an order is what it last recorded the platform asking for (its target;
/// 0 once released), not only what it holds: an order the reservation step refused (overbooked)
/// is known to the ledger and flagged for the operator, so it is not drift while the platform
/// still asks for the same tickets; it is counted in ``overbooked``.
///
/// | platform says      | ledger has                          | drift |
/// |--------------------|-------------------------------------|-------|
/// | n > 0 tickets      | nothing, or a released order         | `missing` |
/// | 0 tickets          | an order holding tickets             | `released` |
/// | n > 0 tickets      | an order asking for m > 0, m ≠ n     | `changed` |
/// | not listed         | an order holding tickets (complete list only) | `unlisted` |
/// | an unknown state   | anything                             | `unknownState` |
public struct ReconciliationDiff: Sendable, Hashable {
    public let platform: Platform
    /// The disagreements, by order id.
    public private(set) var drift: [OrderDrift] = []
    /// Orders the platform holds that the ledger knows were overbooked (held less than asked for).
    public private(set) var overbooked: [String] = []
    /// Distinct orders the platform listed.
    public private(set) var ordersRead = 0
    /// The ledger's orders of the event on this platform (tombstones included).
    public private(set) var ledgerOrders = 0

    /// - Parameters:
    ///   - platformOrders: every order the platform listed (an order listed twice: the last state wins).
    ///   - ledger: the event's orders in the ledger; only those of `platform` are compared.
    ///   - complete: whether the platform's list is complete (only then is an unlisted order drift).
    public init(platform: Platform, platformOrders: [PlatformOrderState], ledger: [OrderRecord], complete: Bool = true) {
        self.platform = platform
        var recorded: [String: OrderRecord] = [:]
        for order in ledger where order.channel == .platform(platform) { recorded[order.orderID] = order }
        ledgerOrders = recorded.count
        var listed: [String: PlatformOrderState] = [:]
        for order in platformOrders { listed[order.orderID] = order }
        ordersRead = listed.count
        for id in listed.keys.sorted() {
            guard let state = listed[id] else { continue }
            compare(state, recorded[id])
        }
        if complete {
            for order in recorded.values.sorted(by: { $0.orderID < $1.orderID })
            where listed[order.orderID] == nil && order.heldQuantity > 0 {
                drift.append(
                    OrderDrift(
                        orderID: order.orderID, kind: .unlisted, platformQuantity: 0, platformStatus: "unlisted",
                        ledgerQuantity: order.heldQuantity, ledgerTarget: Self.asked(order)))
            }
        }
    }

    /// Whether the platform and the ledger agree on every order.
    public var agrees: Bool { drift.isEmpty }

    /// The drift reconciliation can fix by applying the platform's state, with how.
    public var fixes: [(drift: OrderDrift, fix: OrderDrift.Fix)] {
        drift.compactMap { item in item.fix(on: platform).map { (item, $0) } }
    }

    /// What the ledger last recorded the platform asking for: the order's target (0 once released;
    /// an increase refused after a release keeps the order released with the refused target).
    static func asked(_ order: OrderRecord) -> Int { order.target }

    private mutating func compare(_ state: PlatformOrderState, _ order: OrderRecord?) {
        let held = order?.heldQuantity ?? 0
        let target = order.map(Self.asked)
        func note(_ kind: OrderDrift.Kind) {
            drift.append(
                OrderDrift(
                    orderID: state.orderID, kind: kind, platformQuantity: state.quantity, platformStatus: state.status,
                    ledgerQuantity: held, ledgerTarget: target, version: state.version))
        }
        guard let quantity = state.quantity else { return note(.unknownState) }
        let asked = target ?? 0
        switch (quantity, asked) {
        case (0, 0):
            return
        case (_, 0):
            note(.missing)
        case (0, _) where held == 0:
            // An overbooked order the platform has since cancelled or waitlisted (as the daemon asks
            // Luma to): neither side holds a ticket, so nothing is to be fixed.
            return
        case (0, _):
            note(.released)
        case _ where quantity != asked:
            note(.changed)
        default:
            if held < quantity { overbooked.append(state.orderID) }
        }
    }
}
