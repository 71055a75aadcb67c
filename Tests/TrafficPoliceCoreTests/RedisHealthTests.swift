import Testing
import TrafficPoliceCore

/// The Redis health state machine (G5, G6): trips, recovery, the manual switch, and random histories.
@Suite struct RedisHealthTests {
    typealias Health = RedisHealth

    /// Records `count` outcomes every `step` ms from `start`; returns the transitions.
    static func feed(
        _ health: inout Health, _ outcome: Health.PingOutcome, count: Int, from start: Int64, step: Int64 = 250
    ) -> [Health.Transition] {
        (0..<count).compactMap { health.record(outcome, at: start + Int64($0) * step) }
    }

    static let ok = Health.PingOutcome.answered(latencyMs: 1)

    /// A machine tripped by three misses at 200, 450, 700.
    static func tripped() -> Health {
        var health = Health()
        _ = feed(&health, .missed, count: 3, from: 200)
        return health
    }

    @Test func threeMissesTripWithinTheBudget() throws {
        var health = Health()
        #expect(health.record(Self.ok, at: 0) == nil)
        let firstTransition = health.record(.missed, at: 450)
        let first = try #require(firstTransition)
        #expect(first.action == .warn)
        #expect(first.to == .suspect(firstMissAt: 450, misses: 1))
        let deadline: Int64? = health.tripDeadline
        #expect(deadline == Int64(1200))
        let secondTransition = health.record(.missed, at: 700)
        let second = try #require(secondTransition)
        #expect(second.action == .warn && !health.isFailsafe)
        let tripTransition = health.record(.missed, at: 950)
        let trip = try #require(tripTransition)
        #expect(trip.action == .enterFailsafe(.missedPings(3)))
        #expect(trip.to == .failsafe(since: 950, reason: .missedPings(3)))
        #expect(trip.firstMissAt == 450)
        // G5: the first missed ping was sent at 450 - 200 = 250; fail-safe 700 ms later.
        #expect(trip.at - (450 - health.configuration.pingTimeoutMs) <= 1000)
        #expect(health.isFailsafe && health.tripDeadline == nil)
        // Further misses change nothing.
        #expect(Self.feed(&health, .missed, count: 5, from: 1200).isEmpty)
    }

    @Test func aMissFollowedByAnAnswerClearsTheSuspicion() throws {
        var health = Health()
        _ = health.record(.missed, at: 200)
        _ = health.record(.missed, at: 450)
        let clearedTransition = health.record(Self.ok, at: 500)
        let cleared = try #require(clearedTransition)
        #expect(cleared.action == .clearWarning && cleared.to == .healthy && cleared.firstMissAt == nil)
        // The count starts again: two more misses do not trip.
        _ = Self.feed(&health, .missed, count: 2, from: 750)
        #expect(!health.isFailsafe)
        #expect(health.consecutiveMisses == 2 && health.firstMissAt == 750)
    }

    @Test func aHungPingTripsWhenTheBudgetRunsOut() throws {
        var health = Health()
        _ = health.record(.missed, at: 200)
        #expect(health.check(at: 949) == nil)
        let tripTransition = health.check(at: 950)
        let trip = try #require(tripTransition)
        #expect(trip.action == .enterFailsafe(.unansweredFor(ms: 750)))
        #expect(trip.firstMissAt == 200)
        #expect(health.check(at: 2000) == nil)
    }

    @Test func slowMissesTripOnTheBudgetToo() throws {
        var configuration = Health.Configuration()
        configuration.missesToTrip = 10
        var health = Health(configuration: configuration)
        let transitions = Self.feed(&health, .missed, count: 4, from: 200)
        #expect(transitions.map(\.action) == [.warn, .warn, .warn, .enterFailsafe(.unansweredFor(ms: 750))])
    }

    @Test func checkDoesNothingUnlessSuspect() {
        var health = Health()
        #expect(health.check(at: 10_000) == nil)
        var tripped = Self.tripped()
        #expect(tripped.check(at: 10_000) == nil)
    }

    @Test func recoveryNeedsTheRebuildAndEnoughAnswers() throws {
        var health = Self.tripped()
        let beginTransition = health.record(Self.ok, at: 2000)
        let begin = try #require(beginTransition)
        #expect(begin.action == .beginRecovery(attempt: 1))
        #expect(begin.to == .recovering(since: 2000, attempt: 1, rebuilt: false))
        #expect(health.isFailsafe)
        #expect(health.recoveryCompleted(attempt: 1, at: 2100) == nil)
        #expect(health.state == .recovering(since: 2000, attempt: 1, rebuilt: true))
        #expect(Self.feed(&health, Self.ok, count: 2, from: 2250).isEmpty)
        let leaveTransition = health.record(Self.ok, at: 2750)
        let leave = try #require(leaveTransition)
        #expect(leave.action == .leaveFailsafe && leave.to == .healthy)
        #expect(!health.isFailsafe)
    }

    @Test func answersAloneNeverLeaveFailsafe() throws {
        var health = Self.tripped()
        #expect(Self.feed(&health, Self.ok, count: 100, from: 2000).map(\.action) == [.beginRecovery(attempt: 1)])
        #expect(health.isFailsafe)
        let leaveTransition = health.recoveryCompleted(attempt: 1, at: 30_000)
        let leave = try #require(leaveTransition)
        #expect(leave.action == .leaveFailsafe)
    }

    @Test func aMissDuringRecoveryGoesBackToFailsafe() throws {
        var health = Self.tripped()
        _ = health.record(Self.ok, at: 2000)
        let abortTransition = health.record(.missed, at: 2250)
        let abort = try #require(abortTransition)
        #expect(abort.action == .abortRecovery(attempt: 1, .missedPings(1)))
        #expect(abort.to == .failsafe(since: 2250, reason: .missedPings(1)))
        #expect(abort.firstMissAt == 2250)
        let againTransition = health.record(Self.ok, at: 2500)
        let again = try #require(againTransition)
        #expect(again.action == .beginRecovery(attempt: 2))
        // The aborted recovery's completion is stale.
        #expect(health.recoveryCompleted(attempt: 1, at: 2600) == nil)
        #expect(health.state == .recovering(since: 2500, attempt: 2, rebuilt: false))
        _ = Self.feed(&health, Self.ok, count: 3, from: 2750)
        #expect(health.recoveryCompleted(attempt: 2, at: 3500)?.action == .leaveFailsafe)
    }

    @Test func aRecoveryCompletedTwiceOrOutsideRecoveryIsIgnored() {
        var health = Health()
        #expect(health.recoveryCompleted(attempt: 0, at: 1) == nil)
        #expect(health.state == .healthy)
        health = Self.tripped()
        _ = health.record(Self.ok, at: 2000)
        #expect(health.recoveryCompleted(attempt: 1, at: 2001) == nil)
        #expect(health.recoveryCompleted(attempt: 1, at: 2002) == nil)
        #expect(health.state == .recovering(since: 2000, attempt: 1, rebuilt: true))
    }

    @Test func manualFailsafeHoldsWhateverRedisDoes() throws {
        var health = Health()
        let onTransition = health.setManual(true, at: 100)
        let on = try #require(onTransition)
        #expect(on.action == .enterFailsafe(.manual) && on.firstMissAt == nil)
        #expect(health.setManual(true, at: 150) == nil)
        #expect(Self.feed(&health, Self.ok, count: 20, from: 200).isEmpty)
        #expect(Self.feed(&health, .missed, count: 5, from: 6000).isEmpty)
        #expect(Self.feed(&health, Self.ok, count: 20, from: 8000).isEmpty)
        #expect(health.state == .failsafe(since: 100, reason: .manual))
        // Off with Redis answering: the spool filled meanwhile is replayed before sales reopen.
        let offTransition = health.setManual(false, at: 20_000)
        let off = try #require(offTransition)
        #expect(off.action == .beginRecovery(attempt: 1))
        let leaveTransition = health.recoveryCompleted(attempt: 1, at: 20_100)
        let leave = try #require(leaveTransition)
        #expect(leave.action == .leaveFailsafe)
    }

    @Test func manualOffWhileRedisIsDownKeepsTheAutomaticFailsafe() throws {
        var health = Health()
        _ = health.setManual(true, at: 100)
        _ = Self.feed(&health, .missed, count: 2, from: 200)
        let offTransition = health.setManual(false, at: 1000)
        let off = try #require(offTransition)
        #expect(off.action == .keepFailsafe(.missedPings(2)))
        #expect(off.to == .failsafe(since: 100, reason: .missedPings(2)))
        #expect(off.firstMissAt == 200)
        #expect(health.record(Self.ok, at: 1200)?.action == .beginRecovery(attempt: 1))
    }

    @Test func manualOnTopOfAnAutomaticFailsafe() throws {
        var health = Self.tripped()
        #expect(health.setManual(true, at: 1000) == nil)
        #expect(health.status.contains("also on by hand"))
        // Redis is back but the switch holds.
        #expect(Self.feed(&health, Self.ok, count: 10, from: 1200).isEmpty)
        // Off while Redis is down: nothing changes (already the automatic fail-safe).
        _ = health.record(.missed, at: 5000)
        #expect(health.setManual(false, at: 5100) == nil)
        #expect(health.state == .failsafe(since: 700, reason: .missedPings(3)))
        #expect(health.record(Self.ok, at: 5200)?.action == .beginRecovery(attempt: 1))
    }

    @Test func manualOnAbortsARecovery() throws {
        var health = Self.tripped()
        _ = health.record(Self.ok, at: 2000)
        let onTransition = health.setManual(true, at: 2100)
        let on = try #require(onTransition)
        #expect(on.action == .abortRecovery(attempt: 1, .manual))
        #expect(health.recoveryCompleted(attempt: 1, at: 2200) == nil)
        #expect(health.state == .failsafe(since: 2100, reason: .manual))
    }

    @Test func manualOnWhileSuspect() throws {
        var health = Health()
        _ = health.record(.missed, at: 200)
        #expect(health.setManual(true, at: 300)?.action == .enterFailsafe(.manual))
        #expect(health.check(at: 5000) == nil)
    }

    @Test func configurationIsClampedSoNoSingleEventFlips() {
        var configuration = Health.Configuration()
        configuration.missesToTrip = 1
        configuration.successesToRecover = 0
        configuration.pingTimeoutMs = -5
        configuration.tripBudgetMs = 0
        let health = Health(configuration: configuration)
        #expect(health.configuration.missesToTrip == 2)
        #expect(health.configuration.successesToRecover == 2)
        #expect(health.configuration.pingTimeoutMs == 1)
        #expect(health.configuration.tripBudgetMs == 1)
        var copy = health
        #expect(copy.record(.missed, at: 0)?.action == .warn)
    }

    @Test func defaultsMeetG5() {
        let configuration = Health.Configuration()
        #expect(configuration.tripBudgetMs + configuration.pingTimeoutMs <= 1000)
        #expect(
            Int64(configuration.missesToTrip - 1) * configuration.pingIntervalMs + configuration.pingTimeoutMs
                <= configuration.tripBudgetMs + configuration.pingTimeoutMs)
    }

    @Test func statusLines() {
        var health = Health()
        #expect(health.status == "Redis healthy")
        _ = health.record(.missed, at: 1)
        #expect(health.status == "Redis suspect: 1 ping unanswered; sales open")
        _ = Self.feed(&health, .missed, count: 2, from: 2)
        #expect(health.status == "FAIL-SAFE: Redis missed 3 consecutive pings; sales closed, webhooks spooled")
        _ = health.record(Self.ok, at: 1000)
        #expect(health.status.hasPrefix("FAIL-SAFE, recovering (#1): rebuilding"))
    }
}

/// Random ping histories (Redis up and down in phases, hung pings, the manual switch, recoveries
/// completed or stale), replayable from their seed: the guarantees hold after every call.
@Suite struct RedisHealthPropertyTests {
    typealias Health = RedisHealth

    enum Call: CustomStringConvertible {
        case record(Health.PingOutcome, Int64)
        case check(Int64)
        case manual(Bool, Int64)
        case completed(Int, Int64)

        var description: String {
            switch self {
            case .record(let outcome, let at): "record(\(outcome), at: \(at))"
            case .check(let at): "check(at: \(at))"
            case .manual(let on, let at): "setManual(\(on), at: \(at))"
            case .completed(let attempt, let at): "recoveryCompleted(attempt: \(attempt), at: \(at))"
            }
        }

        var at: Int64 {
            switch self {
            case .record(_, let at), .check(let at), .manual(_, let at), .completed(_, let at): at
            }
        }
    }

    /// Counts of what the histories did, so the test cannot pass by never tripping.
    struct Tally {
        var trips = 0
        var budgetTrips = 0
        var leaves = 0
        var aborts = 0
        var manualHolds = 0
    }

    @Test func guaranteesHoldOverRandomHistories() {
        var tally = Tally()
        for seed in UInt64(0)..<400 {
            if let failure = Self.run(seed: seed, tally: &tally) {
                Issue.record("seed \(seed): \(failure)")
                return
            }
        }
        #expect(tally.trips > 400 && tally.budgetTrips > 20 && tally.leaves > 200 && tally.aborts > 50)
        #expect(tally.manualHolds > 100)
    }

    static func randomConfiguration(_ rng: inout SplitMix64) -> Health.Configuration {
        var configuration = Health.Configuration()
        guard Int.random(in: 0..<3, using: &rng) == 0 else { return configuration }
        configuration.pingIntervalMs = Int64.random(in: 50...500, using: &rng)
        configuration.pingTimeoutMs = Int64.random(in: 20...configuration.pingIntervalMs, using: &rng)
        configuration.missesToTrip = Int.random(in: 2...6, using: &rng)
        configuration.successesToRecover = Int.random(in: 2...6, using: &rng)
        configuration.tripBudgetMs = Int64.random(in: 100...1500, using: &rng)
        return configuration
    }

    /// One history; the first broken guarantee, if any.
    static func run(seed: UInt64, tally: inout Tally) -> String? {
        var rng = SplitMix64(seed: seed)
        func chance(_ n: Int) -> Bool { Int.random(in: 0..<n, using: &rng) == 0 }
        var health = Health(configuration: randomConfiguration(&rng))
        let configuration = health.configuration
        var now: Int64 = 0
        var redisUp = true
        /// Recoveries whose completion the machine accepted.
        var completed: Set<Int> = []
        var history: [String] = []

        func apply(_ call: Call) -> String? {
            let before = health
            let transition: Health.Transition?
            switch call {
            case .record(let outcome, let at): transition = health.record(outcome, at: at)
            case .check(let at): transition = health.check(at: at)
            case .manual(let on, let at): transition = health.setManual(on, at: at)
            case .completed(let attempt, let at):
                if case .recovering(_, attempt, false) = before.state { completed.insert(attempt) }
                transition = health.recoveryCompleted(attempt: attempt, at: at)
            }
            history.append("\(call) -> \(transition.map { "\($0.action)" } ?? "nil") [\(health.status)]")
            if let broken = verify(before: before, after: health, transition: transition, call: call) {
                return "\(broken)\n" + history.suffix(12).joined(separator: "\n")
            }
            if let transition {
                switch transition.action {
                case .enterFailsafe(.unansweredFor): tally.budgetTrips += 1; tally.trips += 1
                case .enterFailsafe(.missedPings): tally.trips += 1
                case .leaveFailsafe: tally.leaves += 1
                case .abortRecovery: tally.aborts += 1
                default: break
                }
            }
            if case .record(.answered, _) = call, health.manual, before.manual { tally.manualHolds += 1 }
            return nil
        }

        func verify(before: Health, after: Health, transition: Health.Transition?, call: Call) -> String? {
            if after.manual && !after.isFailsafe { return "not fail-safe while the manual switch is on" }
            if let transition {
                guard transition.from == before.state, transition.to == after.state, transition.at == call.at else {
                    return "the transition does not describe the change"
                }
                guard transition.firstMissAt == after.firstMissAt else { return "firstMissAt differs" }
            } else if before.state != after.state {
                guard case .completed = call, case .recovering(let s, let a, false) = before.state,
                    after.state == .recovering(since: s, attempt: a, rebuilt: true)
                else { return "the state changed without a transition" }
            }
            if before.isFailsafe != after.isFailsafe {
                guard let action = transition?.action else { return "fail-safe flipped silently" }
                switch (after.isFailsafe, action) {
                case (true, .enterFailsafe(.manual)):
                    guard after.manual else { return "a manual trip without the switch" }
                case (true, .enterFailsafe):
                    guard let first = after.firstMissAt, let transition else { return "an automatic trip without a miss" }
                    if transition.at - first > configuration.tripBudgetMs { return "tripped late" }
                    if after.consecutiveMisses < configuration.missesToTrip
                        && transition.at - first < configuration.tripBudgetMs
                    {
                        return "tripped too early"
                    }
                case (false, .leaveFailsafe):
                    guard case .recovering(_, let attempt, _) = before.state, completed.contains(attempt) else {
                        return "left fail-safe without a completed recovery"
                    }
                    if after.manual { return "left fail-safe with the switch on" }
                    if after.consecutiveAnswers < max(2, configuration.successesToRecover) {
                        return "left fail-safe on too few answers"
                    }
                default:
                    return "fail-safe flipped by \(action)"
                }
            }
            if case .record(.missed, _) = call, before.state == .healthy, after.isFailsafe {
                return "a single miss tripped"
            }
            if case .record(.answered, _) = call, before.isFailsafe, !after.isFailsafe, after.consecutiveAnswers < 2 {
                return "a single answer left fail-safe"
            }
            if after.consecutiveMisses >= configuration.missesToTrip && !after.isFailsafe {
                return "\(after.consecutiveMisses) misses without fail-safe"
            }
            switch after.state {
            case .healthy:
                if after.consecutiveMisses != 0 { return "healthy after a miss" }
            case .suspect(let first, let misses):
                if misses != after.consecutiveMisses || first != after.firstMissAt { return "suspect out of step" }
                if call.at - first >= configuration.tripBudgetMs { return "suspect past the trip budget" }
            case .failsafe, .recovering:
                break
            }
            return nil
        }

        for _ in 0..<300 {
            if chance(10) { redisUp.toggle() }
            let call: Call
            if chance(12) {
                call = .manual(chance(2), now)
            } else if chance(8) {
                let current = health.recoveries
                call = .completed(chance(4) ? Int.random(in: 0...current + 1, using: &rng) : current, now)
            } else if chance(20) {
                // A hung ping: no outcome for a while; the shell's timer calls check at the deadline.
                now += Int64.random(in: 0...2000, using: &rng)
                if let deadline = health.tripDeadline, deadline <= now, let broken = apply(.check(deadline)) {
                    return broken
                }
                call = .check(now)
            } else {
                now += configuration.pingIntervalMs
                if let deadline = health.tripDeadline, deadline <= now, let broken = apply(.check(deadline)) {
                    return broken
                }
                let answered = redisUp ? !chance(8) : chance(8)
                call = .record(answered ? .answered(latencyMs: 1) : .missed, now)
            }
            if let broken = apply(call) { return broken }
        }
        return nil
    }
}

@Suite struct RedisDataLossTests {
    @Test func aReportedLossTripsFromHealthyAndRecoversOnTheNextAnswer() {
        var health = RedisHealth()
        let trip = health.reportDataLoss(at: 100)
        #expect(trip?.action == .enterFailsafe(.dataLost))
        #expect(health.state == .failsafe(since: 100, reason: .dataLost))
        #expect(health.reportDataLoss(at: 120) == nil, "already in fail-safe")
        let recovery = health.record(.answered(latencyMs: 1), at: 350)
        #expect(recovery?.action == .beginRecovery(attempt: 1))
        #expect(health.reportDataLoss(at: 400) == nil, "a recovery checks for loss itself")
        #expect(health.status.contains("Redis lost its data") == false)
    }

    @Test func aLossWhileSuspectTripsToo() {
        var health = RedisHealth()
        _ = health.record(.missed, at: 0)
        #expect(health.reportDataLoss(at: 10)?.to == .failsafe(since: 10, reason: .dataLost))
        #expect(health.status.contains("Redis lost its data"))
    }

    @Test func theMarkerJudgesLoss() {
        let stamp = RedisLoss.Stamp(marker: "m1", runID: "r1")
        let same = RedisLoss.Observation(marker: "m1", runID: "r1", appendOnly: false)
        #expect(RedisLoss.judge(same, against: stamp) == .intact)
        #expect(RedisLoss.judge(same, against: nil) == .intact)
        var gone = same
        gone.marker = nil
        #expect(RedisLoss.judge(gone, against: stamp) == .lost("the marker key is gone"))
        var other = same
        other.marker = "m2"
        #expect(RedisLoss.judge(other, against: stamp) != .intact)
        var restartedFromSnapshot = same
        restartedFromSnapshot.runID = "r2"
        #expect(RedisLoss.judge(restartedFromSnapshot, against: stamp) != .intact)
        restartedFromSnapshot.appendOnly = true
        #expect(RedisLoss.judge(restartedFromSnapshot, against: stamp) == .intact, "the AOF replayed every answered write")
    }
}
