import Testing
import TrafficPoliceCore

@Suite struct ThrottlingLaneSchedulerTests {
    @Test func strictPriorityPicksTheHighestWaitingLane() throws {
        var scheduler = LaneScheduler()
        #expect(scheduler.next == nil)
        scheduler.enqueue(.reconciliation)
        scheduler.enqueue(.orderLookup)
        #expect(scheduler.next == .orderLookup)
        #expect(scheduler.mayProceed(.orderLookup))
        #expect(!scheduler.mayProceed(.reconciliation))
        scheduler.enqueue(.failsafe)
        #expect(scheduler.next == .failsafe)
        #expect(!scheduler.mayProceed(.capacityPush))
        scheduler.dequeue(.failsafe)
        scheduler.dequeue(.orderLookup)
        #expect(scheduler.next == .reconciliation)
        scheduler.dequeue(.reconciliation)
        scheduler.dequeue(.reconciliation)
        #expect(scheduler.next == nil && scheduler.waiting.isEmpty)
    }

    @Test func decideRunsTheHeadOfTheChosenLane() throws {
        let gcra = GCRA(budget: try Budget(
            limit: 10, periodMicros: 1_000_000, marginPercent: 50, burst: 5, failsafeReserve: 3))
        let scheduler = LaneScheduler(waiting: [.reconciliation: 2, .capacityPush: 1])
        let choice = try #require(scheduler.decide(heads: [.capacityPush: 2], gcra: gcra, at: 0, tat: 0))
        #expect(choice.lane == .capacityPush && choice.decision.allowed)
        let tooBig = try #require(scheduler.decide(heads: [.capacityPush: 3], gcra: gcra, at: 0, tat: 0))
        #expect(!tooBig.decision.allowed && tooBig.decision.retryAfterMicros == nil)
    }
}

/// Ageing: a lane passed over `ageingLimit` times while it waited has the next turn; fail-safe
/// closes always go first and age nobody.
@Suite struct LaneSchedulerAgeingTests {
    /// Admits `count` requests, each time the lane with the turn, keeping every lane waiting; the order.
    static func admissions(_ scheduler: inout LaneScheduler, _ count: Int) -> [Lane] {
        var order: [Lane] = []
        for _ in 0..<count {
            guard let lane = scheduler.next else { break }
            #expect(scheduler.mayProceed(lane))
            #expect(Lane.allCases.filter { scheduler.mayProceed($0) } == [lane], "one lane has the turn")
            scheduler.admitted(lane)
            order.append(lane)
        }
        return order
    }

    @Test func orderLookupsGoOnceAfterThreeCapacityPushes() {
        var scheduler = LaneScheduler(waiting: [.capacityPush: 100, .orderLookup: 100])
        let order = Self.admissions(&scheduler, 12)
        #expect(order == [
            .capacityPush, .capacityPush, .capacityPush, .orderLookup,
            .capacityPush, .capacityPush, .capacityPush, .orderLookup,
            .capacityPush, .capacityPush, .capacityPush, .orderLookup,
        ])
    }

    @Test func noLaneWaitsLongerThanItsLimitBelowFailsafe() {
        for limit in 1...5 {
            var scheduler = LaneScheduler(
                waiting: [.capacityPush: 1_000, .orderLookup: 1_000, .reconciliation: 1_000], ageingLimit: limit)
            let order = Self.admissions(&scheduler, 300)
            for lane in [Lane.orderLookup, .reconciliation] {
                let turns = order.indices.filter { order[$0] == lane }
                #expect(turns.first.map { $0 <= limit + 1 } == true, "limit \(limit): \(lane) first at \(turns.first ?? -1)")
                let gaps = zip(turns, turns.dropFirst()).map { $1 - $0 }
                #expect(gaps.allSatisfy { $0 <= limit + 2 }, "limit \(limit): \(lane) gaps \(gaps)")
            }
            let pushes = order.filter { $0 == .capacityPush }.count
            #expect(pushes * 2 >= order.count / 2, "capacity pushes keep the larger share: \(pushes) of \(order.count)")
        }
    }

    @Test func failsafeGoesFirstAndAgesNobody() {
        var scheduler = LaneScheduler(waiting: [.failsafe: 10, .orderLookup: 5], passedOver: [.orderLookup: 7])
        #expect(scheduler.next == .failsafe)
        #expect(!scheduler.mayProceed(.orderLookup), "an aged lane still waits for fail-safe closes")
        #expect(Self.admissions(&scheduler, 5) == Array(repeating: .failsafe, count: 5))
        #expect(scheduler.passedOver[.orderLookup] == 7, "fail-safe admissions age nobody")
        for _ in 0..<10 { scheduler.dequeue(.failsafe) }
        #expect(scheduler.next == .orderLookup)
    }

    @Test func aLaneThatStopsWaitingForgetsItsAge() {
        var scheduler = LaneScheduler(waiting: [.capacityPush: 3, .orderLookup: 1])
        scheduler.admitted(.capacityPush)
        scheduler.admitted(.capacityPush)
        #expect(scheduler.passedOver[.orderLookup] == 2)
        scheduler.dequeue(.orderLookup)  // cancelled
        #expect(scheduler.passedOver[.orderLookup] == nil)
        scheduler.enqueue(.orderLookup)
        #expect(scheduler.next == .capacityPush, "a new request starts young")
    }

    @Test func withoutContentionTheOnlyWaitingLaneGoes() {
        var scheduler = LaneScheduler(waiting: [.reconciliation: 2])
        #expect(scheduler.next == .reconciliation && scheduler.mayProceed(.reconciliation))
    }
}
