import PropertyBased
import Testing
import TrafficPoliceCore

@Suite struct JobStateMachineTests {
    let schedule: RetrySchedule

    init() throws {
        schedule = try RetrySchedule(base: .milliseconds(10), cap: .milliseconds(100), maxAttempts: 3, jitter: .none)
    }

    @Test func claimThenSuccessAcks() {
        var job = JobStateMachine()
        #expect(job.claimed(by: "a") == .handle(attempt: 1))
        #expect(job.succeeded() == .ack)
        #expect(job.state == .acked)
        #expect(job.isSettled)
    }

    @Test func failuresRetryWithBackoffThenDeadLetterWithTheLastError() {
        var job = JobStateMachine()
        var generator = SplitMix64(seed: 3)
        #expect(job.claimed(by: "a") == .handle(attempt: 1))
        #expect(job.failed("boom 1", schedule: schedule, using: &generator) == .scheduleRetry(nextAttempt: 2, delay: .milliseconds(10)))
        #expect(job.retryDue() == .enqueue(attempt: 2))
        #expect(job.claimed(by: "b") == .handle(attempt: 2))
        #expect(job.failed("boom 2", schedule: schedule, using: &generator) == .scheduleRetry(nextAttempt: 3, delay: .milliseconds(20)))
        #expect(job.previousDelay == .milliseconds(20))
        #expect(job.retryDue() == .enqueue(attempt: 3))
        #expect(job.claimed(by: "a") == .handle(attempt: 3))
        #expect(job.failed("boom 3", schedule: schedule, using: &generator) == .deadLetter(attempts: 3, reason: "boom 3"))
        #expect(job.state == .deadLettered(attempts: 3, reason: "boom 3"))
        #expect(job.resurrected() == .enqueue(attempt: 1))
        #expect(job.state == .queued(attempt: 1))
        #expect(job.previousDelay == nil)
    }

    @Test func aReclaimKeepsTheAttemptUntilTooManyDeliveries() {
        var job = JobStateMachine(inFlightAttempt: 2, consumer: "dead")
        #expect(job.reclaimed(by: "alive", deliveries: 2, maxDeliveries: 3) == .handle(attempt: 2))
        #expect(job.state == .inFlight(attempt: 2, consumer: "alive", deliveries: 2))
        guard case .deadLetter(let attempts, _) = job.reclaimed(by: "other", deliveries: 4, maxDeliveries: 3) else {
            Issue.record("a job handed out too often was not dead-lettered")
            return
        }
        #expect(attempts == 2)
    }

    @Test func rejectAndParkSettleAtOnce() {
        var rejected = JobStateMachine(inFlightAttempt: 1, consumer: "a")
        #expect(rejected.rejected("malformed") == .deadLetter(attempts: 1, reason: "malformed"))
        var parked = JobStateMachine(inFlightAttempt: 1, consumer: "a")
        #expect(parked.parked("resolver") == .park(reason: "resolver"))
        #expect(parked.resurrected() == .enqueue(attempt: 1))
    }

    @Test func eventsThatDoNotApplyChangeNothing() {
        var generator = SplitMix64(seed: 1)
        var job = JobStateMachine()
        let before = job
        for action in [
            job.succeeded(), job.rejected("x"), job.parked("x"), job.retryDue(), job.resurrected(),
            job.failed("x", schedule: schedule, using: &generator),
            job.reclaimed(by: "x", deliveries: 1, maxDeliveries: 5),
        ] {
            guard case .invalid = action else {
                Issue.record("\(action) from a queued job")
                continue
            }
        }
        #expect(job == before)
        #expect(job.claimed(by: "a") == .handle(attempt: 1))
        #expect(job.succeeded() == .ack)
        guard case .invalid = job.succeeded() else {
            Issue.record("a second ack was accepted")
            return
        }
    }

    /// Any sequence of events keeps the attempt within 1...maxAttempts, never leaves a settled state
    /// except by resurrection, and dead-letters exactly when the attempts are used up.
    @Test func randomEventSequencesKeepTheInvariants() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...6).array(of: 1...60), Gen.int(in: 0...Int.max)) {
            events, seed in
            var generator = SplitMix64(seed: UInt64(seed))
            var job = JobStateMachine()
            for event in events {
                let before = job.state
                let action: JobStateMachine.Action
                switch event {
                case 0: action = job.claimed(by: "c")
                case 1: action = job.succeeded()
                case 2: action = job.failed("e", schedule: schedule, using: &generator)
                case 3: action = job.retryDue()
                case 4: action = job.reclaimed(by: "d", deliveries: 2, maxDeliveries: 5)
                case 5: action = job.resurrected()
                default: action = job.parked("p")
                }
                if case .invalid = action { #expect(job.state == before) }
                switch job.state {
                case .queued(let attempt), .inFlight(let attempt, _, _):
                    #expect((1...schedule.maxAttempts).contains(attempt))
                case .retryScheduled(let next, let delay):
                    #expect((2...schedule.maxAttempts).contains(next))
                    #expect(delay <= schedule.cap)
                case .deadLettered(let attempts, _):
                    if case .deadLetter = action { #expect(attempts == schedule.maxAttempts) }
                case .acked, .parked:
                    break
                }
                if before == .acked { #expect(job.state == .acked) }
            }
        }
    }
}
