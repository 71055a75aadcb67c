import Testing
import TrafficPolice

@Suite struct WorkGateTests {
    @Test func aClosedGateHoldsNewWorkAndDrainsWhatIsInside() async throws {
        let gate = WorkGate(poll: .milliseconds(1))
        #expect(gate.tryEnter())
        gate.close()
        #expect(!gate.tryEnter())
        #expect(gate.active == 1)
        #expect(await gate.drained(within: .milliseconds(30)) == false, "one piece of work is still inside")
        let waiter = Task { await gate.enter() }
        try await Task.sleep(for: .milliseconds(20))
        #expect(gate.active == 1, "the waiter is held back")
        gate.leave()
        #expect(await gate.drained(within: .seconds(5)))
        gate.open()
        #expect(await waiter.value)
        #expect(gate.active == 1)
        gate.leave()
        #expect(gate.active == 0)
    }

    @Test func aHeldBackCallerGivesUp() async {
        let gate = WorkGate(poll: .milliseconds(1))
        gate.close()
        #expect(await gate.enter(giveUp: { true }) == false)
        let cancelled = Task { await gate.enter() }
        cancelled.cancel()
        #expect(await cancelled.value == false)
        #expect(gate.active == 0)
    }
}
