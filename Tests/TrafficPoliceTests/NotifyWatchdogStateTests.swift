import Testing
import TrafficPolice

/// The watchdog's pure decisions, driven synchronously.
@Suite struct NotifyWatchdogStateTests {
    let t0 = ContinuousClock.now

    @Test func intervalsFollowTheWatchdog() {
        let state = WatchdogState(watchdogInterval: .seconds(10), probes: [])
        #expect(state.pingInterval == .seconds(5))
        #expect(state.deadline == .milliseconds(2500))
        #expect(WatchdogState(watchdogInterval: .seconds(10), deadline: .seconds(9), probes: []).deadline == .seconds(5))
    }

    @Test func noProbesAlwaysPings() {
        var state = WatchdogState(watchdogInterval: .seconds(2), probes: [])
        #expect(state.tick(at: t0) == .init(ping: true, start: [], failing: [:]))
        #expect(state.tick(at: t0 + .seconds(1)).ping)
    }

    @Test func pingsWhileProbesAnswerInTime() {
        var state = WatchdogState(watchdogInterval: .seconds(2), probes: ["queue", "intake"])
        let first = state.tick(at: t0)
        #expect(first.ping)  // nothing has failed yet
        #expect(first.start == ["intake", "queue"])
        #expect(state.isRunning("queue"))
        state.probeFinished("queue", succeeded: true, at: t0 + .milliseconds(10))
        state.probeFinished("intake", succeeded: true, at: t0 + .milliseconds(400))
        let second = state.tick(at: t0 + .seconds(1))
        #expect(second == .init(ping: true, start: ["intake", "queue"], failing: [:]))
    }

    @Test func aHungProbeStopsPingsAndIsNotRestartedUntilItReturns() {
        var state = WatchdogState(watchdogInterval: .seconds(2), probes: ["queue"])
        _ = state.tick(at: t0)
        // No answer by the next tick: hung.
        let hung = state.tick(at: t0 + .seconds(1))
        #expect(hung == .init(ping: false, start: [], failing: ["queue": .hung]))
        #expect(state.tick(at: t0 + .seconds(2)) == .init(ping: false, start: [], failing: ["queue": .hung]))
        // It finally returns, late: still no ping, and it is started again.
        state.probeFinished("queue", succeeded: true, at: t0 + .milliseconds(2500))
        #expect(state.tick(at: t0 + .seconds(3)) == .init(ping: false, start: ["queue"], failing: ["queue": .late]))
        // Answers in time: pings resume.
        state.probeFinished("queue", succeeded: true, at: t0 + .milliseconds(3010))
        #expect(state.tick(at: t0 + .seconds(4)) == .init(ping: true, start: ["queue"], failing: [:]))
    }

    @Test func aRunningProbeWithinItsDeadlineKeepsItsPreviousVerdict() {
        var state = WatchdogState(watchdogInterval: .seconds(2), deadline: .milliseconds(900), probes: ["a"])
        _ = state.tick(at: t0)
        // Ticks may come early (a late wake-up of the previous one): still within the deadline.
        #expect(state.tick(at: t0 + .milliseconds(500)) == .init(ping: true, start: [], failing: [:]))
        #expect(state.tick(at: t0 + .milliseconds(901)).failing == ["a": .hung])
    }

    @Test func aThrowingProbeStopsPings() {
        var state = WatchdogState(watchdogInterval: .seconds(2), probes: ["a"])
        _ = state.tick(at: t0)
        state.probeFinished("a", succeeded: false, at: t0 + .milliseconds(1))
        #expect(state.tick(at: t0 + .seconds(1)) == .init(ping: false, start: ["a"], failing: ["a": .failed]))
        state.probeFinished("a", succeeded: true, at: t0 + .milliseconds(1001))
        #expect(state.tick(at: t0 + .seconds(2)).ping)
    }

    @Test func unknownOrIdleProbeAnswersAreIgnored() {
        var state = WatchdogState(watchdogInterval: .seconds(2), probes: ["a"])
        state.probeFinished("a", succeeded: false, at: t0)
        state.probeFinished("b", succeeded: false, at: t0)
        #expect(state.tick(at: t0).ping)
    }
}

@Suite struct HeartbeatTests {
    @Test func aProbeFailsOnlyWhenTheLoopStopsBeating() async throws {
        let heartbeat = Heartbeat()
        try await heartbeat.probe(name: "loop", limit: .seconds(60)).check()
        await #expect(throws: Heartbeat.Stalled.self) {
            try await heartbeat.probe(name: "loop", limit: .zero).check()
        }
        heartbeat.beat()
        #expect(heartbeat.age < .seconds(60))
    }
}
