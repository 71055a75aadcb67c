import PropertyBased
import Testing
import TrafficPoliceCore

/// `EventStock.grantFence` and `EventStock.transfer`: the rebalancer's atomic quota move.
@Suite struct EventStockTransferTests {
    private func newEvent(capacity: Int = 100) throws -> EventStock {
        EventStock(policy: try CapacityPolicy(capacity: capacity))  // allocations 30/30/30, safety 10, soft cap 90
    }

    @Test func grantsIncreaseTheFenceAndOnlyTheLatestMoves() throws {
        var stock = try newEvent()
        #expect(stock.fence == 0)
        let first = stock.grantFence()
        let second = stock.grantFence()
        #expect(first == 1 && second == 2 && stock.fence == 2)
        let stale = try stock.transfer(from: .luma, to: .meetup, tickets: 5, fence: first, keepingAtLeast: 0)
        #expect(stale.outcome == .staleFence && stale.moved == 0 && stale.fence == 2)
        #expect(stock.allocation == [.eventbrite: 30, .luma: 30, .meetup: 30])
        let moved = try stock.transfer(from: .luma, to: .meetup, tickets: 5, fence: second, keepingAtLeast: 0)
        #expect(moved.outcome == .transferred && moved.moved == 5)
        #expect(moved.allocation == [.eventbrite: 30, .luma: 25, .meetup: 35])
        #expect(stock.allocation == moved.allocation)
        #expect(stock.stock == 100 && stock.freeStock == 10)
    }

    @Test func aFenceNeverGrantedIsStale() throws {
        var stock = try newEvent()
        #expect(try stock.transfer(from: .luma, to: .meetup, tickets: 1, fence: 1, keepingAtLeast: 0).outcome == .staleFence)
    }

    @Test func theDonorKeepsWhatItSoldAndWhatItPublishes() throws {
        var stock = try newEvent()
        let fence = stock.grantFence()
        _ = try stock.reserve(platform: .luma, orderID: "a", quantity: 12)
        // Published 20 on Luma: only 30 − max(12, 20) = 10 may move.
        let r1 = try stock.transfer(from: .luma, to: .eventbrite, tickets: 25, fence: fence, keepingAtLeast: 20)
        #expect(r1.outcome == .transferred && r1.moved == 10 && stock.allocation[.luma] == 20)
        // Sold above the published capacity: the floor is what it sold.
        _ = try stock.reserve(platform: .luma, orderID: "b", quantity: 6)
        let r2 = try stock.transfer(from: .luma, to: .eventbrite, tickets: 5, fence: fence, keepingAtLeast: 0)
        #expect(r2.moved == 2 && stock.allocation[.luma] == 18)
        // Nothing left: moves 0, still `transferred`.
        let r3 = try stock.transfer(from: .luma, to: .eventbrite, tickets: 5, fence: fence, keepingAtLeast: 0)
        #expect(r3.outcome == .transferred && r3.moved == 0 && stock.allocation[.luma] == 18)
        // A donor whose published capacity is above its allocation moves nothing (never negative).
        let r4 = try stock.transfer(from: .meetup, to: .luma, tickets: 5, fence: fence, keepingAtLeast: 40)
        #expect(r4.moved == 0 && stock.allocation[.meetup] == 30)
    }

    @Test(arguments: [EventMode.failsafe, .redAlert, .closed])
    func refusedUnlessOpen(mode: EventMode) throws {
        var stock = try newEvent()
        let fence = stock.grantFence()
        stock.setMode(mode)
        let before = stock.allocation
        let result = try stock.transfer(from: .luma, to: .meetup, tickets: 5, fence: fence, keepingAtLeast: 0)
        #expect(result.outcome == .notOpen && result.moved == 0 && stock.allocation == before)
        // A stale fence is reported first.
        #expect(try stock.transfer(from: .luma, to: .meetup, tickets: 5, fence: fence + 1, keepingAtLeast: 0).outcome == .staleFence)
    }

    @Test func refusesMalformedArguments() throws {
        var stock = try newEvent()
        let fence = stock.grantFence()
        #expect(throws: DomainError.self) { try stock.transfer(from: .luma, to: .luma, tickets: 1, fence: fence, keepingAtLeast: 0) }
        #expect(throws: DomainError.self) { try stock.transfer(from: .luma, to: .meetup, tickets: 0, fence: fence, keepingAtLeast: 0) }
        #expect(throws: DomainError.self) { try stock.transfer(from: .luma, to: .meetup, tickets: 1, fence: 0, keepingAtLeast: 0) }
        #expect(throws: DomainError.self) { try stock.transfer(from: .luma, to: .meetup, tickets: 1, fence: fence, keepingAtLeast: -1) }
    }

    @Test func aRebuildKeepsTheFence() throws {
        var stock = try newEvent()
        _ = stock.grantFence()
        _ = stock.grantFence()
        let rebuilt = EventStock(
            policy: stock.policy, allocations: stock.allocation, mode: stock.mode, orders: Array(stock.orders.values),
            fence: stock.fence)
        #expect(rebuilt == stock)
    }

    /// Random histories of reservations, releases, amendments, box-office sales, mode changes,
    /// grants and transfers with current and stale fences: transfers keep Σ allocation, stock,
    /// sold and the free stock; the donor never ends below max(sold, keepingAtLeast) when it
    /// moved anything; a stale fence or a mode other than open never moves anything.
    @Test func randomHistoriesWithTransfersKeepTheInvariants() async {
        await propertyCheck(
            count: 300, input: Gen.int(in: 10...300), Gen.int(in: 0...999_999).array(of: 1...250)
        ) { capacity, steps in
            guard let policy = try? CapacityPolicy(capacity: capacity) else { return }
            var stock = EventStock(policy: policy)
            var granted: [Int] = []
            for step in steps {
                let platform = Platform.allCases[step % 3]
                let other = Platform.allCases[(step % 3 + 1 + (step / 5) % 2) % 3]
                let order = "o\((step / 3) % 40)"
                let quantity = 1 + (step / 120) % 6
                switch (step / 720) % 20 {
                case 0...6:
                    _ = try? stock.reserve(platform: platform, orderID: order, quantity: quantity)
                case 7, 8:
                    _ = stock.release(channel: .platform(platform), orderID: order)
                case 9:
                    _ = try? stock.amend(platform: platform, orderID: order, quantity: quantity % 5)
                case 10:
                    _ = try? stock.sellBoxOffice(saleID: order, quantity: quantity)
                case 11:
                    if stock.mode == .open || stock.mode == .failsafe {
                        stock.setMode(step % 7 == 0 ? .failsafe : .open)
                    }
                case 12, 13:
                    let fence = stock.grantFence()
                    #expect(fence == (granted.last ?? 0) + 1)
                    granted.append(fence)
                default:
                    // Mostly the current fence, sometimes an older one (or one never granted).
                    let fence = step % 4 == 0 ? max(1, (granted.last ?? 0) - 1 - step % 3) : max(granted.last ?? 1, 1)
                    let tickets = 1 + (step / 7) % 40
                    let keep = (step / 11) % 45
                    let before = stock
                    guard let result = try? stock.transfer(
                        from: platform, to: other, tickets: tickets, fence: fence, keepingAtLeast: keep)
                    else {
                        Issue.record("valid transfer refused")
                        return
                    }
                    let total = { (s: EventStock) in s.allocation.values.reduce(0, +) }
                    #expect(total(stock) == total(before))
                    #expect(stock.stock == before.stock && stock.sold == before.sold && stock.freeStock == before.freeStock)
                    #expect(stock.orders == before.orders && stock.mode == before.mode && stock.fence == before.fence)
                    #expect(result.allocation == stock.allocation && result.fence == stock.fence)
                    #expect(stock.allocation[platform]! == before.allocation[platform]! - result.moved)
                    #expect(stock.allocation[other]! == before.allocation[other]! + result.moved)
                    #expect(result.moved >= 0 && result.moved <= tickets)
                    if fence != before.fence {
                        #expect(result.outcome == .staleFence && result.moved == 0)
                    } else if before.mode != .open {
                        #expect(result.outcome == .notOpen && result.moved == 0)
                    } else {
                        #expect(result.outcome == .transferred)
                        let floor = max(before.sold[.platform(platform)] ?? 0, keep)
                        #expect(result.moved == max(min(tickets, before.allocation[platform]! - floor), 0))
                        if result.moved > 0 { #expect(stock.allocation[platform]! >= floor) }
                    }
                }
                #expect(stock.stock >= 0)
                #expect(stock.totalSold <= capacity)
                #expect(stock.freeStock >= 0)
                for p in Platform.allCases {
                    #expect((stock.sold[.platform(p)] ?? 0) <= (stock.allocation[p] ?? 0))
                }
            }
            // A rebuild gives the same counters and fence. (Not when sales made in fail-safe took
            // the event past its soft cap and it was then reopened: the model stays open, the
            // rebuild enters red alert. That gap is the fail-safe/reopen path's, not the transfer's.)
            let rebuilt = EventStock(
                policy: policy, allocations: stock.allocation, mode: stock.mode, orders: Array(stock.orders.values),
                fence: stock.fence)
            #expect(rebuilt.fence == stock.fence)
            if !(stock.mode == .open && stock.totalSold >= policy.softCap) {
                #expect(rebuilt.counters == stock.counters)
            }
        }
    }
}
