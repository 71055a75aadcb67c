import PropertyBased
import Testing
import TrafficPoliceCore

@Suite struct EventStockTests {
    private func newEvent(capacity: Int = 100, safety: String = "0.10", soft: String = "0.90") throws -> EventStock {
        EventStock(
            policy: try CapacityPolicy(
                capacity: capacity, safetyStock: try Ratio(parsing: safety), softCap: try Ratio(parsing: soft)))
    }

    @Test func acceptsWithinTheAllocation() throws {
        var stock = try newEvent()  // allocations 30/30/30, safety stock 10
        let result = try stock.reserve(platform: .luma, orderID: "gst-1", quantity: 30)
        #expect(result.outcome == .accepted)
        #expect(result.verdict == 1)
        #expect(stock.stock == 70)
        #expect(stock.sold[.platform(.luma)] == 30)
    }

    @Test func absorbsTheExcessFromTheFreeStock() throws {
        var stock = try newEvent()
        _ = try stock.reserve(platform: .luma, orderID: "gst-1", quantity: 28)
        let result = try stock.reserve(platform: .luma, orderID: "gst-2", quantity: 5)
        #expect(result.outcome == .absorbed)
        #expect(result.excess == 3)
        #expect(stock.allocation[.luma] == 33)
        #expect(stock.freeStock == 7)
        #expect(stock.stock == 67)
    }

    @Test func overbooksWhenTheFreeStockCannotCoverTheExcess() throws {
        var stock = try newEvent()
        _ = try stock.reserve(platform: .luma, orderID: "gst-1", quantity: 30)
        let before = stock
        let result = try stock.reserve(platform: .luma, orderID: "gst-2", quantity: 11)
        #expect(result.outcome == .overbooked)
        #expect(result.verdict == 0)
        #expect(stock.counters == before.counters)
    }

    @Test func aRepeatedOrderReturnsItsFirstOutcomeAndChangesNothing() throws {
        var stock = try newEvent()
        let first = try stock.reserve(platform: .meetup, orderID: "r1", quantity: 2)
        let counters = stock.counters
        let again = try stock.reserve(platform: .meetup, orderID: "r1", quantity: 7)
        #expect(again.duplicate)
        #expect(again.outcome == first.outcome)
        #expect(stock.counters == counters)
        // The same id on another platform is another order.
        #expect(try stock.reserve(platform: .luma, orderID: "r1", quantity: 1).duplicate == false)
    }

    @Test func releaseIsIdempotentAndATombstoneBlocksALateReservation() throws {
        var stock = try newEvent()
        _ = try stock.reserve(platform: .eventbrite, orderID: "o1", quantity: 4)
        #expect(stock.release(channel: .platform(.eventbrite), orderID: "o1") == .released)
        #expect(stock.stock == 100)
        #expect(stock.release(channel: .platform(.eventbrite), orderID: "o1") == .alreadyReleased)
        #expect(stock.stock == 100)
        #expect(stock.release(channel: .platform(.luma), orderID: "never") == .unknownOrder)
        let late = try stock.reserve(platform: .luma, orderID: "never", quantity: 1)
        #expect(late.duplicate && late.outcome == .overbooked)
        #expect(stock.stock == 100)
    }

    @Test func crossingTheSoftCapEntersRedAlertAndClosesEveryPlatform() throws {
        var stock = try newEvent()  // soft cap 90
        _ = try stock.reserve(platform: .eventbrite, orderID: "a", quantity: 30)
        _ = try stock.reserve(platform: .luma, orderID: "b", quantity: 30)
        _ = try stock.reserve(platform: .meetup, orderID: "c", quantity: 20)
        let crossing = try stock.reserve(platform: .meetup, orderID: "d", quantity: 10)
        #expect(crossing.enteredRedAlert)
        #expect(stock.mode == .redAlert)
        #expect(stock.allocation == [.eventbrite: 30, .luma: 30, .meetup: 30])
        // After red alert everything left is free stock for the box office.
        #expect(stock.freeStock == 10)
        #expect(try stock.sellBoxOffice(saleID: "s1", quantity: 10) == .sold(stockAfter: 0, enteredRedAlert: false))
        #expect(try stock.reserve(platform: .luma, orderID: "late", quantity: 1).outcome == .overbooked)
        // A refund on a closed platform goes to the box office, not back to the platform.
        #expect(stock.release(channel: .platform(.luma), orderID: "b") == .released)
        #expect(stock.allocation[.luma] == 0)
        #expect(stock.freeStock == 30)
    }

    @Test func theBoxOfficeSellsOnlyTheFreeStockAndNeverInFailsafe() throws {
        var stock = try newEvent()
        #expect(try stock.sellBoxOffice(saleID: "s1", quantity: 11) == .refused(available: 10))
        #expect(try stock.sellBoxOffice(saleID: "s1", quantity: 10) == .sold(stockAfter: 90, enteredRedAlert: false))
        #expect(try stock.sellBoxOffice(saleID: "s1", quantity: 10) == .duplicate(quantity: 10))
        #expect(try stock.sellBoxOffice(saleID: "s2", quantity: 1) == .refused(available: 0))
        stock.setMode(.failsafe)
        #expect(try stock.sellBoxOffice(saleID: "s3", quantity: 1) == .failsafe)
    }

    @Test(arguments: [0, -3, EventStock.maximumQuantity + 1])
    func refusesQuantitiesOutOfRange(quantity: Int) throws {
        var stock = try newEvent()
        #expect(throws: DomainError.self) { try stock.reserve(platform: .luma, orderID: "x", quantity: quantity) }
        #expect(throws: DomainError.self) { try stock.sellBoxOffice(saleID: "x", quantity: quantity) }
    }

    /// Random histories of reservations, repeats, releases and box-office sales keep every invariant,
    /// and rebuilding from the order history alone gives the same counters (what the ledger rebuild does).
    @Test func randomHistoriesKeepTheInvariantsAndRebuildExactly() async {
        await propertyCheck(
            count: 400, input: Gen.int(in: 1...300), Gen.int(in: 0...999_999).array(of: 1...250)
        ) { capacity, steps in
            guard let policy = try? CapacityPolicy(capacity: capacity) else { return }
            var stock = EventStock(policy: policy)
            var firstOutcome: [String: ReservationOutcome] = [:]
            for step in steps {
                let platform = Platform.allCases[step % 3]
                let order = "o\((step / 3) % 40)"
                let quantity = 1 + (step / 120) % 6
                switch (step / 720) % 10 {
                case 0...6:
                    guard let result = try? stock.reserve(platform: platform, orderID: order, quantity: quantity) else {
                        Issue.record("valid quantity refused")
                        return
                    }
                    let key = "\(platform.rawValue):\(order)"
                    if let first = firstOutcome[key] {
                        #expect(result.duplicate && result.outcome == first)
                    } else if !result.duplicate {
                        firstOutcome[key] = result.outcome
                    }
                case 7, 8:
                    _ = stock.release(channel: .platform(platform), orderID: order)
                default:
                    _ = try? stock.sellBoxOffice(saleID: order, quantity: quantity)
                }
                #expect(stock.stock >= 0)
                #expect(stock.totalSold <= capacity)
                #expect(stock.freeStock >= 0)
                for p in Platform.allCases {
                    #expect((stock.sold[.platform(p)] ?? 0) <= (stock.allocation[p] ?? 0))
                }
                let held = stock.orders.values.reduce(0) { $0 + $1.heldQuantity }
                #expect(held == stock.totalSold)
            }
            let rebuilt = EventStock(
                policy: policy, allocations: stock.allocation, mode: stock.mode, orders: Array(stock.orders.values))
            #expect(rebuilt.counters == stock.counters)
            #expect(rebuilt.orders == stock.orders)
        }
    }
}
