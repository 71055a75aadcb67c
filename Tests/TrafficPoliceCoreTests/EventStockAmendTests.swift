import PropertyBased
import Testing
import TrafficPoliceCore

/// `EventStock.amend`: an order whose ticket count changes after it was decided.
@Suite struct EventStockAmendTests {
    private func newEvent(capacity: Int = 100) throws -> EventStock {
        EventStock(policy: try CapacityPolicy(capacity: capacity))  // allocations 30/30/30, safety 10, soft cap 90
    }

    @Test func aDecreaseGivesTicketsBackToThePlatformsAllocation() throws {
        var stock = try newEvent()
        _ = try stock.reserve(platform: .meetup, orderID: "r1", quantity: 4)
        let result = try stock.amend(platform: .meetup, orderID: "r1", quantity: 1)
        #expect(result.change == .decreased)
        #expect(result.previousQuantity == 4 && result.quantity == 1)
        #expect(stock.stock == 99)
        #expect(stock.sold[.platform(.meetup)] == 1)
        #expect(stock.allocation[.meetup] == 30)
        #expect(stock.freeStock == 10)
    }

    @Test func zeroReleasesAndAReleasedOrderComesBackAsANewOrder() throws {
        var stock = try newEvent()
        _ = try stock.reserve(platform: .meetup, orderID: "r1", quantity: 2)
        #expect(try stock.amend(platform: .meetup, orderID: "r1", quantity: 0).change == .decreased)
        #expect(stock.orders["meetup:r1"]?.released == true)
        #expect(stock.stock == 100)
        // A release is the same as an amendment to 0: the next "0" is a duplicate.
        #expect(try stock.amend(platform: .meetup, orderID: "r1", quantity: 0).change == .duplicate)
        let back = try stock.amend(platform: .meetup, orderID: "r1", quantity: 3)
        #expect(back.change == .increased && back.order.outcome == .accepted && back.quantity == 3)
        #expect(stock.stock == 97)
        _ = stock.release(channel: .platform(.meetup), orderID: "r1")
        #expect(try stock.amend(platform: .meetup, orderID: "r1", quantity: 2).change == .increased)
        #expect(stock.stock == 98)
    }

    @Test func anIncreaseIsDecidedAsANewOrderOfTheExtraTickets() throws {
        var stock = try newEvent()
        _ = try stock.reserve(platform: .luma, orderID: "g1", quantity: 28)
        let within = try stock.amend(platform: .luma, orderID: "g1", quantity: 30)
        #expect(within.change == .increased && within.excess == 0 && within.order.outcome == .accepted)
        let absorbed = try stock.amend(platform: .luma, orderID: "g1", quantity: 33)
        #expect(absorbed.change == .increased && absorbed.excess == 3 && absorbed.order.outcome == .absorbed)
        #expect(absorbed.order.excess == 3)
        #expect(stock.allocation[.luma] == 33)
        #expect(stock.freeStock == 7)
        let before = stock.counters
        let refused = try stock.amend(platform: .luma, orderID: "g1", quantity: 41)
        #expect(refused.change == .refused && refused.overbooked)
        #expect(refused.quantity == 33 && refused.order.target == 41)
        #expect(stock.counters == before)
        // Idempotent on the target: the same refused increase is refused again, even with room now.
        _ = try stock.reserve(platform: .eventbrite, orderID: "e1", quantity: 5)
        _ = stock.release(channel: .platform(.eventbrite), orderID: "e1")
        #expect(try stock.amend(platform: .luma, orderID: "g1", quantity: 41).change == .duplicate)
        #expect(stock.counters == before)
        // Back to what it holds: unchanged, no longer overbooked.
        let settled = try stock.amend(platform: .luma, orderID: "g1", quantity: 33)
        #expect(settled.change == .unchanged && !settled.overbooked)
    }

    @Test func anUnknownOrderIsANewOrderAndZeroLeavesATombstone() throws {
        var stock = try newEvent()
        let new = try stock.amend(platform: .eventbrite, orderID: "o1", quantity: 2)
        #expect(new.change == .increased && new.previousQuantity == 0 && stock.stock == 98)
        #expect(try stock.reserve(platform: .eventbrite, orderID: "o1", quantity: 2).duplicate)
        let tomb = try stock.amend(platform: .eventbrite, orderID: "o2", quantity: 0)
        #expect(tomb.change == .unchanged && tomb.order.released)
        #expect(try stock.reserve(platform: .eventbrite, orderID: "o2", quantity: 1).outcome == .overbooked)
        let overbooked = try stock.amend(platform: .luma, orderID: "big", quantity: 50)
        #expect(overbooked.change == .refused && overbooked.order.outcome == .overbooked)
        #expect(stock.stock == 98)
    }

    @Test func anOlderVersionIsStaleAndChangesNothing() throws {
        var stock = try newEvent()
        _ = try stock.amend(platform: .meetup, orderID: "r1", quantity: 3, version: 200)
        let counters = stock.counters
        #expect(try stock.amend(platform: .meetup, orderID: "r1", quantity: 1, version: 100).change == .stale)
        #expect(try stock.amend(platform: .meetup, orderID: "r1", quantity: 0, version: 199).change == .stale)
        #expect(stock.counters == counters)
        // A repeat with a newer version moves the version up, so the older state stays stale.
        #expect(try stock.amend(platform: .meetup, orderID: "r1", quantity: 3, version: 300).change == .duplicate)
        #expect(try stock.amend(platform: .meetup, orderID: "r1", quantity: 1, version: 250).change == .stale)
        #expect(try stock.amend(platform: .meetup, orderID: "r1", quantity: 1, version: 300).change == .decreased)
    }

    @Test func inRedAlertAnIncreaseComesFromTheFreeStockAndADecreaseGoesToIt() throws {
        var stock = try newEvent()
        _ = try stock.reserve(platform: .eventbrite, orderID: "a", quantity: 30)
        _ = try stock.reserve(platform: .luma, orderID: "b", quantity: 30)
        _ = try stock.reserve(platform: .meetup, orderID: "c", quantity: 25)
        let crossing = try stock.amend(platform: .meetup, orderID: "c", quantity: 30)
        #expect(crossing.enteredRedAlert && stock.mode == .redAlert)
        #expect(stock.freeStock == 10)
        let absorbed = try stock.amend(platform: .luma, orderID: "b", quantity: 34)
        #expect(absorbed.change == .increased && absorbed.excess == 4 && stock.freeStock == 6)
        let down = try stock.amend(platform: .eventbrite, orderID: "a", quantity: 20)
        #expect(down.change == .decreased)
        #expect(stock.allocation[.eventbrite] == 20 && stock.freeStock == 16)
        #expect(try stock.amend(platform: .meetup, orderID: "c", quantity: 47).change == .refused)
    }

    @Test(arguments: [-1, EventStock.maximumQuantity + 1])
    func refusesQuantitiesOutOfRange(quantity: Int) throws {
        var stock = try newEvent()
        #expect(throws: DomainError.self) { try stock.amend(platform: .luma, orderID: "x", quantity: quantity) }
        #expect(throws: DomainError.self) {
            try stock.amend(platform: .luma, orderID: "x", quantity: 1, version: -1)
        }
    }

    /// Random histories mixing reservations, amendments (with versions), releases, repeats and
    /// box-office sales keep G1 at every step, sold per channel = Σ held, stock + sold = C, and the
    /// counters rebuild exactly from the orders.
    @Test func randomHistoriesWithAmendmentsKeepTheInvariants() async {
        await propertyCheck(
            count: 400, input: Gen.int(in: 1...200), Gen.int(in: 0...999_999).array(of: 1...250)
        ) { capacity, steps in
            guard let policy = try? CapacityPolicy(capacity: capacity) else { return }
            var stock = EventStock(policy: policy)
            for (index, step) in steps.enumerated() {
                let platform = Platform.allCases[step % 3]
                let order = "o\((step / 3) % 30)"
                let quantity = (step / 90) % 8
                let version = Int64(index / 3 + (step / 720) % 5)
                let before = stock
                switch (step / 720) % 12 {
                case 0...3:
                    _ = try? stock.reserve(platform: platform, orderID: order, quantity: max(quantity, 1))
                case 4...9:
                    guard let result = try? stock.amend(platform: platform, orderID: order, quantity: quantity, version: version)
                    else {
                        Issue.record("valid amendment refused")
                        return
                    }
                    switch result.change {
                    case .refused, .stale, .duplicate:
                        #expect(stock.counters == before.counters)
                    case .increased, .decreased, .unchanged:
                        #expect(result.quantity == quantity)
                    }
                    if step % 2 == 0 {
                        // A repeat of the same amendment changes nothing.
                        let counters = stock.counters
                        let again = try? stock.amend(platform: platform, orderID: order, quantity: quantity, version: version)
                        #expect(again?.change == .duplicate || again?.change == .stale)
                        #expect(stock.counters == counters)
                    }
                case 10:
                    _ = stock.release(channel: .platform(platform), orderID: order)
                default:
                    _ = try? stock.sellBoxOffice(saleID: order, quantity: max(quantity, 1))
                }
                #expect(stock.stock >= 0)
                #expect(stock.totalSold <= capacity)
                #expect(stock.stock + stock.sold.values.reduce(0, +) == capacity)
                #expect(stock.freeStock >= 0)
                for channel in SalesChannel.all {
                    let held = stock.orders.values.filter { $0.channel == channel }.reduce(0) { $0 + $1.heldQuantity }
                    #expect(stock.sold[channel] == held)
                }
                for p in Platform.allCases {
                    #expect((stock.sold[.platform(p)] ?? 0) <= (stock.allocation[p] ?? 0))
                }
            }
            let rebuilt = EventStock(
                policy: policy, allocations: stock.allocation, mode: stock.mode, orders: Array(stock.orders.values))
            #expect(rebuilt.counters == stock.counters)
            #expect(rebuilt.orders == stock.orders)
        }
    }
}
