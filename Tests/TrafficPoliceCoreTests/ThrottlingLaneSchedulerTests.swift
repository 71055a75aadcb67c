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
