import PropertyBased
import Testing
import TrafficPoliceCore

@Suite struct RetryScheduleTests {
    @Test func invalidSchedulesAreRefused() {
        #expect(throws: DomainError.self) { try RetrySchedule(base: .zero) }
        #expect(throws: DomainError.self) { try RetrySchedule(base: .seconds(2), cap: .seconds(1)) }
        #expect(throws: DomainError.self) { try RetrySchedule(maxAttempts: 0) }
    }

    @Test func ceilingDoublesUpToTheCap() throws {
        let schedule = try RetrySchedule(base: .milliseconds(100), cap: .seconds(1), maxAttempts: 10, jitter: .none)
        #expect(schedule.ceiling(afterAttempt: 1) == .milliseconds(100))
        #expect(schedule.ceiling(afterAttempt: 2) == .milliseconds(200))
        #expect(schedule.ceiling(afterAttempt: 4) == .milliseconds(800))
        #expect(schedule.ceiling(afterAttempt: 5) == .seconds(1))
        #expect(schedule.ceiling(afterAttempt: 500) == .seconds(1))
        var generator = SplitMix64(seed: 1)
        #expect(schedule.decision(afterAttempt: 3, using: &generator) == .retry(after: .milliseconds(400)))
    }

    @Test func theLastAttemptDeadLetters() throws {
        let schedule = try RetrySchedule(maxAttempts: 3)
        var generator = SplitMix64(seed: 7)
        #expect(schedule.decision(afterAttempt: 2, using: &generator) != .deadLetter)
        #expect(schedule.decision(afterAttempt: 3, using: &generator) == .deadLetter)
        #expect(schedule.decision(afterAttempt: 4, using: &generator) == .deadLetter)
        let once = try RetrySchedule(maxAttempts: 1)
        #expect(once.decision(afterAttempt: 1, using: &generator) == .deadLetter)
    }

    @Test func hugeDurationsSaturate() throws {
        let schedule = try RetrySchedule(base: .seconds(1), cap: .seconds(Int64.max / 2), maxAttempts: 1000, jitter: .none)
        #expect(schedule.ceiling(afterAttempt: 200) == .milliseconds(Int64.max))
        #expect(RetrySchedule.milliseconds(.seconds(Int64.max)) == Int64.max)
    }

    /// Full jitter stays within 0...ceiling, decorrelated within base...cap, and both are replayable from the seed.
    @Test func jitteredDelaysStayInBounds() async {
        await propertyCheck(
            count: 300, input: Gen.int(in: 1...5_000), Gen.int(in: 1...400), Gen.int(in: 1...40),
            Gen.int(in: 0...Int.max)
        ) { baseMs, capFactor, attempts, seed in
            guard
                let full = try? RetrySchedule(
                    base: .milliseconds(baseMs), cap: .milliseconds(baseMs * capFactor), maxAttempts: attempts,
                    jitter: .full),
                let decorrelated = try? RetrySchedule(
                    base: .milliseconds(baseMs), cap: .milliseconds(baseMs * capFactor), maxAttempts: attempts,
                    jitter: .decorrelated)
            else {
                Issue.record("valid schedule refused")
                return
            }
            var generator = SplitMix64(seed: UInt64(seed))
            var replay = SplitMix64(seed: UInt64(seed))
            var previous: Duration?
            for attempt in 1...(attempts + 1) {
                let fullDecision = full.decision(afterAttempt: attempt, using: &generator)
                #expect(fullDecision == full.decision(afterAttempt: attempt, using: &replay))
                let decision = decorrelated.decision(afterAttempt: attempt, previousDelay: previous, using: &generator)
                #expect(decision == decorrelated.decision(afterAttempt: attempt, previousDelay: previous, using: &replay))
                if attempt >= attempts {
                    #expect(fullDecision == .deadLetter)
                    #expect(decision == .deadLetter)
                    continue
                }
                guard case .retry(let fullDelay) = fullDecision, case .retry(let delay) = decision else {
                    Issue.record("attempt \(attempt) of \(attempts) was not retried")
                    return
                }
                #expect(fullDelay >= .zero && fullDelay <= full.ceiling(afterAttempt: attempt))
                #expect(fullDelay <= full.cap)
                #expect(delay >= decorrelated.base && delay <= decorrelated.cap)
                if let previous {
                    #expect(delay <= max(decorrelated.base, previous * 3))
                }
                previous = delay
            }
        }
    }
}
