import PropertyBased
import Testing
import TrafficPoliceCore

/// The rebalance policy over random events: every plan, applied step by step on the simulator,
/// keeps the guarantees at every step.
@Suite struct RebalancePolicyPropertyTests {
    /// One random event and configuration, replayable from (capacity, seed).
    struct Case: CustomStringConvertible {
        var state: RebalanceState
        var rebalancer: RebalancePolicy

        var description: String {
            let listings = Platform.allCases.map { p -> String in
                let l = state[p]
                return "\(p.rawValue)(linked \(l.linked), alloc \(l.allocation), pub \(l.published), "
                    + "sold \(l.sold), v \(l.velocity))"
            }
            return
                "C \(state.policy.capacity) S \(state.policy.safetyStock) soft \(state.policy.softCap) "
                + "mode \(state.mode) box \(state.boxOfficeSold) \(listings.joined(separator: " ")) config \(rebalancer.configuration)"
        }
    }

    /// A random event consistent with ``EventStock``'s rules: allocations split C − S, sold within
    /// the allocation or absorbed (the allocation grew by the excess, out of the free stock), box-office
    /// sales out of the free stock, published mostly the allocation but sometimes stale (below or above
    /// it), velocities 0…100/s, random linked flags and modes (in red alert and closed, allocation = sold).
    static func randomCase(capacity: Int, seed: UInt64) -> Case {
        var rng = SplitMix64(seed: seed)
        func chance(_ n: Int) -> Bool { Int.random(in: 0..<n, using: &rng) == 0 }
        let safetyPPM: Int64 =
            chance(3) ? 100_000 : chance(4) ? 0 : Int64.random(in: 0...999_999, using: &rng)
        let softPPM = chance(2) ? 1_000_000 - safetyPPM : Int64.random(in: 1...(1_000_000 - safetyPPM), using: &rng)
        let policy = try! CapacityPolicy(
            capacity: capacity, safetyStock: try! Ratio(partsPerMillion: safetyPPM),
            softCap: try! Ratio(partsPerMillion: softPPM))
        let split =
            chance(3)
            ? AllocationSplit.equal
            : (try? AllocationSplit(weights: [
                .eventbrite: Int64.random(in: 0...10, using: &rng), .luma: Int64.random(in: 0...10, using: &rng),
                .meetup: Int64.random(in: 0...10, using: &rng),
            ])) ?? .equal
        var allocation = split.allocate(policy.platformShare)
        var sold: [Platform: Int] = [:]
        var free = policy.safetyStock
        for platform in Platform.allCases {
            let allocated = allocation[platform]!
            sold[platform] =
                chance(4)
                ? 0 : chance(6) ? allocated : Int.random(in: 0...(chance(2) ? allocated / 3 : allocated), using: &rng)
            if chance(8), free > 0 {
                // An order the platform took beyond its allocation, absorbed from the free stock.
                let excess = Int.random(in: 1...free, using: &rng)
                free -= excess
                allocation[platform]! += excess
                sold[platform] = allocation[platform]!
            }
        }
        let boxOffice = chance(3) && free > 0 ? Int.random(in: 0...free, using: &rng) : 0
        let mode: EventMode = chance(2) ? .open : [.open, .redAlert, .closed, .failsafe].randomElement(using: &rng)!
        var listings: [Platform: RebalanceState.Listing] = [:]
        for platform in Platform.allCases {
            let linked = !chance(5)
            let soldHere = sold[platform]!
            if mode == .redAlert || mode == .closed { allocation[platform] = soldHere }
            let allocated = allocation[platform]!
            let published: Int
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: published = Int.random(in: soldHere...max(allocated, soldHere), using: &rng)
            case 1: published = allocated + Int.random(in: 0...max(capacity / 10, 1), using: &rng)
            case 2 where mode == .redAlert || mode == .closed:
                published = split.allocate(policy.platformShare)[platform]!
            default: published = allocated
            }
            let velocity: Double =
                chance(4)
                ? 0 : chance(3) ? Double.random(in: 0...0.5, using: &rng) : Double.random(in: 0...100, using: &rng)
            listings[platform] = .init(
                linked: linked, allocation: allocated, published: max(published, soldHere), sold: soldHere,
                velocity: velocity)
        }
        let configuration =
            chance(2)
            ? RebalancePolicy.Configuration()
            : RebalancePolicy.Configuration(
                horizonSeconds: Double.random(in: 1...900, using: &rng),
                minimumReserve: Int.random(in: 0...20, using: &rng),
                minimumTransferTickets: Int.random(in: 1...20, using: &rng),
                minimumTransferShare: try! Ratio(partsPerMillion: Int64.random(in: 0...50_000, using: &rng)))
        return Case(
            state: RebalanceState(policy: policy, mode: mode, boxOfficeSold: boxOffice, listings: listings),
            rebalancer: RebalancePolicy(configuration: configuration))
    }

    /// Every rule a plan must keep, checked on the simulator after every step; returns what broke.
    static func violations(of plan: RebalancePlan, from initial: RebalanceState) -> [String] {
        var problems: [String] = []
        func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { problems.append(message()) }
        }
        let perPlatformSafe = Platform.allCases.allSatisfy {
            initial[$0].offered <= max(initial[$0].allocation, initial[$0].sold)
        }
        let nothingAbsorbed =
            Platform.allCases.reduce(0) { $0 + initial[$1].allocation } == initial.policy.platformShare
        let publishedCoversSold = Platform.allCases.allSatisfy {
            !initial[$0].linked || initial[$0].published >= initial[$0].sold
        }

        // The order: shrinks and closes, their confirmations, transfers, grows, red alert.
        let rank: (RebalanceStep) -> Int = {
            switch $0 {
            case .shrink, .close: 0
            case .confirmShrink: 1
            case .transfer: 2
            case .grow: 3
            case .enterRedAlert: 4
            }
        }
        let ranks = plan.steps.map(rank)
        check(ranks == ranks.sorted(), "steps out of order")
        for step in plan.steps {
            switch step {
            case .shrink(let p, _), .close(let p):
                check(plan.steps.contains(.confirmShrink(p)), "\(step) never confirmed")
            default: break
            }
        }
        check(Set(plan.steps).count == plan.steps.count, "a step repeats")

        if initial.mode == .failsafe { check(plan.isEmpty, "fail-safe plans something") }
        if initial.isPastSoftCap {
            check(!plan.grows && plan.transfers.isEmpty, "past the soft cap a plan grows or moves quota")
        }

        var state = initial
        var excess = max(state.offeredUnsold - state.unsoldAllocation, 0)
        let allocationTotal = Platform.allCases.reduce(0) { $0 + state[$1].allocation }
        for (index, step) in plan.steps.enumerated() {
            let before = state
            switch step {
            case .shrink(let p, let capacity):
                check(before[p].linked, "\(step): unlinked")
                check(capacity < before[p].published, "\(step): not lower")
                check(capacity >= before[p].sold, "\(step): below sold \(before[p].sold)")
            case .grow(let p, let capacity):
                check(before[p].linked, "\(step): unlinked")
                check(capacity > before[p].published, "\(step): not higher")
                check(capacity <= max(before[p].allocation, before[p].sold), "\(step): above the allocation")
                check(before[p].unconfirmedPublished == nil, "\(step): before its own confirmation")
                check(!before.isPastSoftCap && before.mode != .failsafe, "\(step): grow in \(before.mode)")
            case .close(let p):
                check(before[p].linked, "\(step): unlinked")
            case .transfer(let from, let to, let tickets):
                check(from != to, "\(step): to itself")
                check(tickets > 0, "\(step): nothing")
                check(to != from && before[to].linked, "\(step): to an unlinked platform")
                check(
                    before[from].sellingRate < before[to].sellingRate,
                    "\(step): toward a platform selling no faster "
                        + "(\(before[from].sellingRate) → \(before[to].sellingRate))"
                )
                check(
                    before[from].allocation - tickets >= max(before[from].sold, before[from].offered),
                    "\(step): the donor keeps less than it sold or may sell")
            case .confirmShrink, .enterRedAlert:
                break
            }
            state.apply(step)
            let newExcess = max(state.offeredUnsold - state.unsoldAllocation, 0)
            check(
                newExcess <= excess,
                "step \(index) \(step): offers more beyond the allocations (\(excess) → \(newExcess))")
            excess = newExcess
            check(!initial.isPublishSafe || state.isPublishSafe, "step \(index) \(step): G2 broken")
            for p in Platform.allCases where perPlatformSafe {
                check(
                    state[p].offered <= max(state[p].allocation, state[p].sold),
                    "step \(index) \(step): \(p) offers more than its allocation")
            }
            if nothingAbsorbed && perPlatformSafe && state.mode == .open {
                let published = Platform.allCases.reduce(0) { $0 + state[$1].offered }
                check(
                    published <= state.policy.platformShare, "step \(index) \(step): Σ published \(published) > C − S")
            }
            if publishedCoversSold {
                for p in Platform.allCases where state[p].linked {
                    check(state[p].published >= state[p].sold, "step \(index) \(step): \(p) published below sold")
                }
            }
            if case .transfer = step {
                check(
                    Platform.allCases.reduce(0) { $0 + state[$1].allocation } == allocationTotal,
                    "step \(index) \(step): a transfer changed the total allocation")
            }
        }
        return problems
    }

    /// G2 and the per-platform rules at every step of every plan, and the plan's shape.
    @Test func everyStepOfEveryPlanKeepsTheGuarantees() async {
        await Self.checkEveryStep(count: 3000, capacities: 1...100_000)
    }

    /// Small events, where the reserve, the minimum move and rounding matter most.
    @Test func smallEventsKeepTheGuaranteesToo() async {
        await Self.checkEveryStep(count: 2000, capacities: 1...60)
    }

    /// Plans `count` random events of these capacities and checks every step of each plan.
    static func checkEveryStep(count: Int, capacities: ClosedRange<Int>) async {
        await propertyCheck(count: count, input: Gen.int(in: capacities), Gen.uint64()) { capacity, seed in
            let example = randomCase(capacity: capacity, seed: seed)
            let plan = example.rebalancer.plan(for: example.state)
            let problems = violations(of: plan, from: example.state)
            #expect(problems.isEmpty, "\(example)\nplan: \(plan)\n\(problems.joined(separator: "\n"))")
        }
    }

    /// The same state gives the same plan (also when its listings were given in another order), and
    /// after a plan is applied, planning again finds nothing to do: one round converges.
    @Test func plansAreDeterministicAndConvergeInOneRound() async {
        await propertyCheck(count: 2000, input: Gen.int(in: 1...100_000), Gen.uint64()) { capacity, seed in
            let example = Self.randomCase(capacity: capacity, seed: seed)
            let state = example.state
            let plan = example.rebalancer.plan(for: state)
            let reordered = RebalanceState(
                policy: state.policy, mode: state.mode, boxOfficeSold: state.boxOfficeSold,
                listings: Dictionary(uniqueKeysWithValues: Platform.allCases.reversed().map { ($0, state[$0]) }))
            #expect(example.rebalancer.plan(for: reordered) == plan)
            #expect(example.rebalancer.plan(for: state) == plan)
            let after = state.applying(plan)
            let again = example.rebalancer.plan(for: after)
            #expect(again == .nothingToDo, "\(example)\nplan: \(plan)\nagain: \(again)")
            if state.isPastSoftCap {
                #expect(after.mode == .redAlert || after.mode == .closed)
                for p in Platform.allCases where after[p].linked {
                    #expect(after[p].published == after[p].sold)
                }
            }
        }
    }

    /// Quota only flows from slower to faster platforms, and a receiver never ends with more than it
    /// needs over the horizon; a donor keeps at least its projected need and reserve (when linked).
    @Test func transfersFollowTheVelocityRule() async {
        await propertyCheck(count: 2000, input: Gen.int(in: 1...100_000), Gen.uint64()) { capacity, seed in
            let example = Self.randomCase(capacity: capacity, seed: seed)
            let state = example.state
            let rebalancer = example.rebalancer
            let plan = rebalancer.plan(for: state)
            let minimum = rebalancer.minimumTransfer(for: state.policy)
            let after = state.applying(plan)
            for move in plan.transfers {
                #expect(move.tickets >= minimum)
                #expect(state[move.from].sellingRate < state[move.to].sellingRate)
            }
            for p in Platform.allCases {
                let received = plan.transfers.filter { $0.to == p }.reduce(0) { $0 + $1.tickets }
                let given = plan.transfers.filter { $0.from == p }.reduce(0) { $0 + $1.tickets }
                #expect(received == 0 || given == 0, "\(p) both gives and receives")
                if received > 0 {
                    #expect(after[p].unsoldAllocation <= rebalancer.need(of: state[p]))
                }
                if given > 0 && state[p].linked {
                    #expect(
                        after[p].unsoldAllocation
                            >= max(rebalancer.need(of: state[p]), rebalancer.configuration.minimumReserve))
                }
            }
        }
    }

    /// The random events reach every kind of plan, so the properties above are not vacuous.
    @Test func theRandomEventsReachEveryKindOfPlan() {
        var counts: [String: Int] = [:]
        var rng = SplitMix64(seed: 42)
        for _ in 0..<3000 {
            let example = Self.randomCase(capacity: Int.random(in: 1...100_000, using: &rng), seed: rng.next())
            let state = example.state
            let plan = example.rebalancer.plan(for: state)
            func count(_ key: String, _ condition: Bool) { if condition { counts[key, default: 0] += 1 } }
            count("nothing to do", plan.isEmpty)
            count("transfer", !plan.transfers.isEmpty)
            count("two transfers", plan.transfers.count > 1)
            count("unlinked donor", plan.transfers.contains { !state[$0.from].linked })
            count("shrink", plan.steps.contains { if case .shrink = $0 { true } else { false } })
            count("grow", plan.grows)
            count("close", plan.closes)
            count("enter red alert", plan.steps.contains(.enterRedAlert))
            count("fail-safe", state.mode == .failsafe)
            count("absorbed", Platform.allCases.reduce(0) { $0 + state[$1].allocation } > state.policy.platformShare)
            count("unsafe input", !state.isPublishSafe)
        }
        for key in [
            "nothing to do", "transfer", "two transfers", "unlinked donor", "shrink", "grow", "close",
            "enter red alert", "fail-safe", "absorbed", "unsafe input",
        ] {
            #expect((counts[key] ?? 0) >= 30, "only \(counts[key] ?? 0) random events with \(key)")
        }
    }
}
