import PropertyBased
import Testing
import TrafficPoliceCore

/// `ReconciliationDiff`: a platform's orders of one event against the ledger's.
@Suite struct ReconciliationDiffTests {
    private func state(_ id: String, _ quantity: Int?, status: String = "s", version: Int64 = 0) -> PlatformOrderState {
        PlatformOrderState(orderID: id, quantity: quantity, status: status, version: version)
    }

    private func kinds(_ diff: ReconciliationDiff) -> [String: OrderDrift.Kind] {
        Dictionary(uniqueKeysWithValues: diff.drift.map { ($0.orderID, $0.kind) })
    }

    @Test func findsMissingReleasedAndChangedOrders() throws {
        var stock = EventStock(policy: try CapacityPolicy(capacity: 100))
        _ = try stock.reserve(platform: .luma, orderID: "same", quantity: 2)
        _ = try stock.reserve(platform: .luma, orderID: "refunded", quantity: 1)
        _ = try stock.reserve(platform: .luma, orderID: "grown", quantity: 1)
        _ = try stock.reserve(platform: .luma, orderID: "gone", quantity: 3)
        _ = try stock.reserve(platform: .luma, orderID: "back", quantity: 1)
        _ = stock.release(channel: .platform(.luma), orderID: "back")
        _ = try stock.reserve(platform: .meetup, orderID: "other-platform", quantity: 1)
        let diff = ReconciliationDiff(
            platform: .luma,
            platformOrders: [
                state("same", 2), state("refunded", 0, status: "declined"), state("grown", 3), state("new", 2),
                state("back", 1), state("never-held", 0, status: "waitlist"), state("odd", nil, status: "session"),
            ],
            ledger: Array(stock.orders.values))
        #expect(
            kinds(diff) == [
                "refunded": .released, "grown": .changed, "new": .missing, "back": .missing, "gone": .unlisted,
                "odd": .unknownState,
            ])
        #expect(diff.ordersRead == 7 && diff.ledgerOrders == 5)
        #expect(!diff.agrees)
        let grown = try #require(diff.drift.first { $0.orderID == "grown" })
        #expect(grown.platformQuantity == 3 && grown.ledgerQuantity == 1 && grown.ledgerTarget == 1)
        let fixes = Dictionary(uniqueKeysWithValues: diff.fixes.map { ($0.drift.orderID, $0.fix) })
        #expect(
            fixes == [
                "refunded": .release, "grown": .amend(quantity: 3, version: 0), "new": .reserve(quantity: 2),
                "back": .amend(quantity: 1, version: 0),
            ])
    }

    @Test func aPartialListJudgesNoUnlistedOrder() throws {
        var stock = EventStock(policy: try CapacityPolicy(capacity: 10))
        _ = try stock.reserve(platform: .eventbrite, orderID: "o1", quantity: 1)
        let diff = ReconciliationDiff(
            platform: .eventbrite, platformOrders: [], ledger: Array(stock.orders.values), complete: false)
        #expect(diff.agrees)
        let complete = ReconciliationDiff(platform: .eventbrite, platformOrders: [], ledger: Array(stock.orders.values))
        #expect(kinds(complete) == ["o1": .unlisted] && complete.fixes.isEmpty)
    }

    @Test func aKnownOverbookedOrderIsNotDrift() throws {
        // Capacity 10: safety 1, allocations 3/3/3. A Luma order of 5 does not fit (free stock 1).
        var stock = EventStock(policy: try CapacityPolicy(capacity: 10))
        #expect(try stock.reserve(platform: .luma, orderID: "big", quantity: 5).outcome == .overbooked)
        let diff = ReconciliationDiff(platform: .luma, platformOrders: [state("big", 5)], ledger: Array(stock.orders.values))
        #expect(diff.agrees && diff.overbooked == ["big"])
        // Waitlisted or cancelled on the platform since (the daemon moves overbooked Luma guests to the
        // waitlist): neither side holds a ticket, so there is nothing to fix.
        let cancelled = ReconciliationDiff(
            platform: .luma, platformOrders: [state("big", 0)], ledger: Array(stock.orders.values))
        #expect(cancelled.agrees && cancelled.overbooked.isEmpty)
    }

    @Test func meetupIsAlwaysAmendedWithTheRSVPsVersion() {
        let diff = ReconciliationDiff(
            platform: .meetup, platformOrders: [state("r1", 2, status: "YES", version: 42)], ledger: [])
        #expect(diff.fixes.map(\.fix) == [.amend(quantity: 2, version: 42)])
        let released = OrderDrift(
            orderID: "r2", kind: .released, platformQuantity: 0, platformStatus: "NO", ledgerQuantity: 1,
            ledgerTarget: 1, version: 7)
        #expect(released.fix(on: .meetup) == .amend(quantity: 0, version: 7))
        #expect(released.fix(on: .eventbrite) == .release)
    }

    @Test func anOrderListedTwiceIsJudgedByItsLastState() {
        let diff = ReconciliationDiff(
            platform: .luma, platformOrders: [state("g", 2), state("g", 0, status: "declined")], ledger: [])
        #expect(diff.agrees && diff.ordersRead == 1)
    }

    /// Over random ledgers and platform states: applying every fix the diff proposes, by the
    /// reservation step's own rules (`EventStock`), leaves no fixable drift, only what needs an
    /// operator (unlisted, unknown states); an order that was not drift is left alone; and every
    /// order the platform holds is then either held by the ledger or known to be overbooked.
    @Test func applyingTheFixesLeavesOnlyWhatNeedsAnOperator() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix64(seed: UInt64(seed))
            let capacity = Int.random(in: 5...60, using: &rng)
            guard var stock = try? EventStock(policy: CapacityPolicy(capacity: capacity)) else { return }
            let platform = Platform.allCases.randomElement(using: &rng) ?? .luma
            let ids = (0..<Int.random(in: 0...25, using: &rng)).map { "o\($0)" }
            // The ledger: what the workers applied before some deliveries were lost.
            for id in ids where Bool.random(using: &rng) {
                _ = try? stock.reserve(platform: platform, orderID: id, quantity: Int.random(in: 1...4, using: &rng))
                if Int.random(in: 0..<4, using: &rng) == 0 { _ = stock.release(channel: .platform(platform), orderID: id) }
            }
            // The platform's truth now: most listed, some with another quantity, some cancelled.
            var listed: [PlatformOrderState] = []
            for id in ids where Int.random(in: 0..<8, using: &rng) != 0 {
                let roll = Int.random(in: 0..<10, using: &rng)
                let quantity: Int? = roll == 0 ? nil : roll < 3 ? 0 : Int.random(in: 1...4, using: &rng)
                listed.append(state(id, quantity, version: Int64(seed % 1000)))
            }
            let before = ReconciliationDiff(platform: platform, platformOrders: listed, ledger: Array(stock.orders.values))
            let drifting = Set(before.drift.map(\.orderID))
            let untouched = stock.orders.filter { !drifting.contains($0.value.orderID) }
            for (drift, fix) in before.fixes {
                switch fix {
                case .reserve(let quantity):
                    _ = try? stock.reserve(platform: platform, orderID: drift.orderID, quantity: quantity)
                case .amend(let quantity, let version):
                    _ = try? stock.amend(platform: platform, orderID: drift.orderID, quantity: quantity, version: version)
                case .release:
                    _ = stock.release(channel: .platform(platform), orderID: drift.orderID)
                }
            }
            let after = ReconciliationDiff(platform: platform, platformOrders: listed, ledger: Array(stock.orders.values))
            #expect(
                after.drift.allSatisfy { $0.kind == .unlisted || $0.kind == .unknownState },
                "seed \(seed): \(after.drift)")
            #expect(after.fixes.isEmpty, "seed \(seed)")
            for (key, order) in untouched { #expect(stock.orders[key] == order, "seed \(seed): \(key) changed") }
            let overbooked = Set(after.overbooked)
            for order in listed {
                guard let quantity = order.quantity else { continue }
                let record = stock.orders[OrderRecord.key(.platform(platform), order.orderID)]
                // The ledger now asks for what the platform holds (or, for an overbooked order the
                // platform gave up, holds nothing either), and holds it unless it was overbooked.
                let held = record?.heldQuantity ?? 0
                #expect((record?.target ?? 0) == quantity || (quantity == 0 && held == 0), "seed \(seed): \(order.orderID)")
                #expect(held == quantity || overbooked.contains(order.orderID), "seed \(seed): \(order.orderID)")
                #expect(!overbooked.contains(order.orderID) || held < quantity, "seed \(seed): \(order.orderID)")
            }
        }
    }
}
