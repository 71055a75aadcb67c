import Testing
import TrafficPoliceCore

@Suite struct EventbriteOrderCursorTests {
    @Test(arguments: [
        ("10", "9", true), ("9", "10", false), ("100", "99", true), ("0010", "9", true), ("5", "5", false),
        ("abc", "abd", false), ("12", "1a", false),
    ])
    func idsCompareAsNumbers(id: String, other: String, larger: Bool) {
        #expect(EventbriteOrderCursor.isLarger(id, than: other) == larger)
    }

    @Test func theCursorFollowsTheLargestIDAndKeepsItsStart() {
        var cursor = EventbriteOrderCursor(changedSinceMilliseconds: 1_000)
        cursor.advance(past: [])
        #expect(cursor.lastItemSeen == nil)
        cursor.advance(past: ["98", "1002", "999"])
        #expect(cursor.lastItemSeen == "1002")
        cursor.advance(past: ["1001"])
        #expect(cursor == EventbriteOrderCursor(changedSinceMilliseconds: 1_000, lastItemSeen: "1002"))
    }
}

@Suite struct OrderResolutionPlanTests {
    typealias Waiting = OrderResolutionPlan.Waiting

    @Test func newOrdersWaitForOneBatchReadResolvedOnesGoBackOthersAreReadAlone() {
        let plan = OrderResolutionPlan(
            waiting: [
                Waiting(orderID: "1", action: "order.placed", receivedMilliseconds: 9_000),
                Waiting(orderID: "2", action: "order.placed", receivedMilliseconds: 9_500),
                Waiting(orderID: "2", action: "order.placed", receivedMilliseconds: 9_600),  // a repeat
                Waiting(orderID: "3", action: "order.refunded", receivedMilliseconds: 9_700),
                Waiting(orderID: "4", action: "order.placed", receivedMilliseconds: 1_000),  // unseen for 9 s
            ],
            resolved: ["1"], now: 10_000,
            configuration: { var c = OrderResolutionPlan.Configuration(); c.directAfterMilliseconds = 5_000; return c }())
        #expect(plan.ready == ["1"])
        #expect(plan.batchRead)
        #expect(plan.direct == ["4", "3"])
    }

    @Test func nothingWaitingMeansNoReadsAndDirectReadsAreBounded() {
        #expect(OrderResolutionPlan(waiting: [], resolved: [], now: 0) == .init(waiting: [], resolved: ["x"], now: 5))
        let many = (0..<30).map { Waiting(orderID: "\($0)", action: "order.updated", receivedMilliseconds: Int64($0)) }
        let plan = OrderResolutionPlan(waiting: many, resolved: [], now: 100)
        #expect(plan.direct == (0..<10).map { "\($0)" })
        #expect(!plan.batchRead)
        #expect(plan.ready.isEmpty)
    }
}
