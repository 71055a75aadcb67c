import PropertyBased
import Testing
import TrafficPoliceCore

@Suite struct GCRATests {
    /// A random valid budget: limit 2...600 per 1 ms...2 h, margin 50...100%, any burst that fits.
    static func budget(_ generator: inout SplitMix64) -> Budget? {
        let limit = Int.random(in: 2...600, using: &generator)
        let margin = Int.random(in: 50...100, using: &generator)
        let effective = limit * margin / 100
        guard effective >= 1, limit - effective >= 1 else { return nil }
        let burst = Int.random(in: 1...(limit - effective), using: &generator)
        return try? Budget(
            limit: limit, periodMicros: Int64.random(in: 1_000...7_200_000_000, using: &generator),
            marginPercent: margin, burst: burst, failsafeReserve: Int.random(in: 0...(burst - 1), using: &generator))
    }

    @Test func standardBudgetsValidateAndKeepTheirMargins() throws {
        for platform in Platform.allCases {
            let budget = Budget.standard(for: platform)
            #expect(try Budget(
                limit: budget.limit, periodMicros: budget.periodMicros, marginPercent: budget.marginPercent,
                burst: budget.burst, failsafeReserve: budget.failsafeReserve) == budget)
            #expect(budget.effectiveLimit + budget.burst <= budget.limit)
            _ = try budget.scaled(toPercent: 50)
        }
        #expect(Budget.standard(for: .eventbrite).emissionIntervalMicros == 2_000_000)
        #expect(Budget.standard(for: .luma).emissionIntervalMicros == 333_334)
        #expect(Budget.standard(for: .meetup).effectiveLimit == 300)
        #expect(Budget.standard(for: .meetup).emissionIntervalMicros == 200_000)
    }

    /// DESIGN.md: Meetup's costs are not published, so no window of 60 s may use more than 80% of its
    /// 500 points, burst included; the configured budget with the defaults is the standard one.
    @Test func meetupNeverPlansAWindowAboveItsMargin() throws {
        #expect(try Budget.configured(for: .meetup, limit: 500, marginPercent: 80) == Budget.standard(for: .meetup))
        for (points, margin) in [(500, 80), (500, 50), (1_000, 80), (40, 90), (7, 60), (10_000, 99)] {
            let budget = try Budget.configured(for: .meetup, limit: points, marginPercent: margin)
            #expect(budget.effectiveLimit + budget.burst <= points * margin / 100, "\(points) at \(margin)%")
            #expect(budget.effectiveLimit >= 1 && budget.capacity(for: .reconciliation) >= 1)
        }
        #expect(throws: DomainError.self) { try Budget.configured(for: .meetup, limit: 4, marginPercent: 80) }
        // Eventbrite and Luma publish their limits: the margin is the steady share, the burst the rest.
        let luma = try Budget.configured(for: .luma, limit: 200, marginPercent: 90)
        #expect(luma.effectiveLimit == 180 && luma.limit == 200)
    }

    @Test func invalidBudgetsAreRefused() {
        #expect(throws: DomainError.self) {
            try Budget(limit: 100, periodMicros: 1_000, marginPercent: 90, burst: 11, failsafeReserve: 0)
        }
        #expect(throws: DomainError.self) {
            try Budget(limit: 100, periodMicros: 1_000, marginPercent: 90, burst: 5, failsafeReserve: 5)
        }
        #expect(throws: DomainError.self) {
            try Budget(limit: 100, periodMicros: 0, marginPercent: 90, burst: 5, failsafeReserve: 0)
        }
        #expect(throws: DomainError.self) {
            try Budget(limit: 100, periodMicros: 1_000, marginPercent: 101, burst: 5, failsafeReserve: 0)
        }
    }

    @Test func aBurstThenTheSteadyRate() throws {
        let gcra = GCRA(budget: try Budget(
            limit: 20, periodMicros: 2_000_000, marginPercent: 50, burst: 4, failsafeReserve: 2))
        var tat: Int64 = 0
        for _ in 0..<2 {
            let decision = gcra.admit(cost: 1, lane: .reconciliation, at: 0, tat: tat)
            #expect(decision.allowed)
            tat = decision.tat
        }
        let refused = gcra.admit(cost: 1, lane: .reconciliation, at: 0, tat: tat)
        #expect(!refused.allowed && refused.retryAfterMicros == 200_000)
        #expect(gcra.admit(cost: 2, lane: .failsafe, at: 0, tat: tat).allowed)
        #expect(gcra.admit(cost: 3, lane: .orderLookup, at: 0, tat: 0).retryAfterMicros == nil)
    }

    /// Over random request sequences, the cost admitted in any closed window of one period stays
    /// within the margined limit plus the burst.
    @Test func anyWindowStaysWithinTheBudget() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...Int.max)) { seed in
            var generator = SplitMix64(seed: UInt64(seed))
            guard let budget = Self.budget(&generator) else { return }
            let gcra = GCRA(budget: budget)
            let interval = budget.emissionIntervalMicros
            var now: Int64 = Int64.random(in: 0...1_000_000_000, using: &generator)
            var tat: Int64 = 0
            var admitted: [(at: Int64, cost: Int)] = []
            for _ in 0..<400 {
                // Bursty: often no gap, sometimes a fraction of an interval, now and then a long idle.
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<5: break
                case 5..<9: now += Int64.random(in: 1...interval, using: &generator)
                default: now += Int64.random(in: 1...budget.periodMicros, using: &generator)
                }
                let lane = Lane.allCases.randomElement(using: &generator) ?? .failsafe
                let cost = Int.random(in: 0...budget.capacity(for: lane), using: &generator)
                let decision = gcra.admit(cost: cost, lane: lane, at: now, tat: tat)
                if decision.allowed {
                    admitted.append((now, cost))
                    tat = decision.tat
                } else {
                    #expect(decision.tat == tat)
                }
            }
            // The exact bound: whole intervals in a period (at most the margined limit) plus the burst.
            let bound = Int(budget.periodMicros / interval) + budget.burst
            #expect(bound <= budget.effectiveLimit + budget.burst)
            for (index, first) in admitted.enumerated() {
                let inWindow = admitted[index...].prefix { $0.at <= first.at + budget.periodMicros }
                let total = inWindow.reduce(0) { $0 + $1.cost }
                #expect(total <= bound, "seed \(seed): \(total) > \(bound) from \(first.at)")
            }
        }
    }

    /// The fail-safe lane is admitted whenever a lower lane would be, at any state.
    @Test func failsafeIsAdmittedWheneverALowerLaneIs() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var generator = SplitMix64(seed: UInt64(seed))
            guard let budget = Self.budget(&generator) else { return }
            let gcra = GCRA(budget: budget)
            let now = Int64.random(in: 0...1_000_000_000, using: &generator)
            let tat = now + Int64.random(in: -budget.periodMicros...budget.periodMicros, using: &generator)
            let cost = Int.random(in: 0...budget.burst, using: &generator)
            for lane in Lane.allCases where gcra.admit(cost: cost, lane: lane, at: now, tat: tat).allowed {
                #expect(gcra.admit(cost: cost, lane: .failsafe, at: now, tat: tat).allowed)
                for higher in Lane.allCases where higher < lane {
                    #expect(gcra.admit(cost: cost, lane: higher, at: now, tat: tat).allowed)
                }
            }
        }
    }

    /// A refusal's retry-after is exact: admitted at now + retryAfter, refused one microsecond earlier.
    @Test func retryAfterIsExact() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var generator = SplitMix64(seed: UInt64(seed))
            guard let budget = Self.budget(&generator) else { return }
            let gcra = GCRA(budget: budget)
            let lane = Lane.allCases.randomElement(using: &generator) ?? .failsafe
            let now = Int64.random(in: 0...1_000_000_000, using: &generator)
            let tat = now + Int64.random(in: 0...budget.periodMicros * 2, using: &generator)
            let paused = Bool.random(using: &generator) ? now + Int64.random(in: 0...budget.periodMicros, using: &generator) : 0
            let cost = Int.random(in: 1...budget.capacity(for: lane), using: &generator)
            let decision = gcra.admit(cost: cost, lane: lane, at: now, tat: tat, pausedUntil: paused)
            guard !decision.allowed else { return }
            guard let retry = decision.retryAfterMicros, retry > 0 else {
                Issue.record("seed \(seed): refused without a positive retry-after")
                return
            }
            #expect(gcra.admit(cost: cost, lane: lane, at: now + retry, tat: tat, pausedUntil: paused).allowed)
            #expect(!gcra.admit(cost: cost, lane: lane, at: now + retry - 1, tat: tat, pausedUntil: paused).allowed)
        }
    }

    /// A pause refuses every lane and cost until it ends, and says how long is left.
    @Test func aPauseBlocksEverythingUntilItEnds() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var generator = SplitMix64(seed: UInt64(seed))
            guard let budget = Self.budget(&generator) else { return }
            let gcra = GCRA(budget: budget)
            let now = Int64.random(in: 0...1_000_000_000, using: &generator)
            let until = now + Int64.random(in: 1...budget.periodMicros * 3, using: &generator)
            for lane in Lane.allCases {
                let cost = Int.random(in: 0...budget.capacity(for: lane), using: &generator)
                let decision = gcra.admit(cost: cost, lane: lane, at: now, tat: 0, pausedUntil: until)
                #expect(!decision.allowed)
                #expect((decision.retryAfterMicros ?? 0) >= until - now)
                #expect(gcra.admit(cost: cost, lane: lane, at: until, tat: 0, pausedUntil: until).allowed)
            }
        }
    }
}
