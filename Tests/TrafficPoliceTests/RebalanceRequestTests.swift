import Foundation
import Logging
import Testing
import TrafficPolice
import TrafficPoliceCore

/// An operator's request for a pass (`Rebalancer.requestPass(of:by:)`) against the real Redis,
/// PostgreSQL and the platform simulator: with an hour between regular passes, the requested pass
/// runs at once, under the same lock and fence, and is logged with its reason.
@Suite(.timeLimit(.minutes(2))) struct RebalanceRequestTests {
    /// An hour: no regular pass runs during the test after the first one.
    static let hour: Int64 = 3_600_000

    @Test func aRequestedPassRunsPromptlyDespiteALongInterval() async throws {
        try await TestSimulator.with { sim in
            try await TestStack.with { stack in
                let fixture = try await RebalancerFixture.open(sim: sim, stack: stack)
                defer { fixture.close() }
                let logs = LogCapture()
                let rebalancer = try fixture.rebalancer(intervalMilliseconds: Self.hour, triggerShare: 1, logs: logs)
                let running = Task { try await rebalancer.run() }
                defer { running.cancel() }

                // The first look at the event is a pass: it publishes each allocation.
                #expect(try await QueueTesting.eventually(timeout: .seconds(15)) {
                    try await fixture.simulatorCapacities() == [.eventbrite: 30, .luma: 30, .meetup: 30]
                })
                // Eventbrite sells 20 of its 30 (below the trigger share): no pass is due for an hour.
                for _ in 0..<20 { try await fixture.sell(.eventbrite, 1) }
                try await Task.sleep(for: .seconds(2))
                #expect(try await fixture.simulatorCapacities()[.eventbrite] == 30, "no pass ran by itself")

                let asked = ContinuousClock.now
                #expect(await rebalancer.requestPass(of: fixture.event, by: "ana") == .requested)
                #expect(try await QueueTesting.eventually(timeout: .seconds(5)) {
                    (try await fixture.simulatorCapacities()[.eventbrite] ?? 0) > 30
                }, "the requested pass moved quota to Eventbrite")
                #expect(ContinuousClock.now - asked < .seconds(5))
                let changes = try await stack.ledger.capacityChanges(fixture.event)
                #expect(changes.contains { $0.kind == .transfer && $0.fence > 0 }, "fenced like any pass")
                #expect(try await QueueTesting.eventually(timeout: .seconds(5)) {
                    logs.entries.contains { $0.message == "rebalance pass asked by an operator ran" }
                })
                let ran = logs.entries.first { $0.message == "rebalance pass asked by an operator ran" }
                #expect(ran?.fields["OUTCOME"] == "done" && ran?.fields["OPERATOR"] == "ana")
                let plan = logs.entries.first { $0.message == "rebalance plan" && $0.fields["REASON"] == "operator" }
                #expect(plan?.fields["OPERATOR"] == "ana", "the pass's own lines carry the reason and the operator")
                try await fixture.expectPublishSafety()
            }
        }
    }

    @Test func anUnknownEventAndFailsafeAreRefused() async throws {
        try await TestSimulator.with { sim in
            try await TestStack.with { stack in
                let fixture = try await RebalancerFixture.open(sim: sim, stack: stack)
                defer { fixture.close() }
                let gate = WorkGate()
                let logs = LogCapture()
                let rebalancer = try fixture.rebalancer(intervalMilliseconds: Self.hour, gate: gate, logs: logs)
                // An event in the ledger but listed on no platform, and one nowhere.
                let unlisted = try TestServers.eventID("rebalance-unlisted")
                try await stack.desk.create(id: unlisted, name: "Unlisted", policy: try CapacityPolicy(capacity: 10), split: .equal)
                #expect(await rebalancer.requestPass(of: unlisted, by: "ana") == .unknownEvent)
                #expect(await rebalancer.requestPass(of: try TestServers.eventID("rebalance-none"), by: "ana") == .unknownEvent)
                // The watched event is known without the loop running: the ledger is read on request.
                gate.close()
                #expect(await rebalancer.requestPass(of: fixture.event, by: "ana") == .failsafe)
                gate.open()
                #expect(await rebalancer.requestPass(of: fixture.event, by: "ana") == .requested)
                #expect(await rebalancer.requestPass(of: fixture.event, by: "bo") == .alreadyPending, "not running: it waits")
                let refusals = logs.entries.filter { $0.message == "rebalance pass asked by an operator" }
                #expect(refusals.map { $0.fields["OUTCOME"] ?? "" } == ["unknownEvent", "unknownEvent", "failsafe", "requested", "alreadyPending"])
            }
        }
    }
}
