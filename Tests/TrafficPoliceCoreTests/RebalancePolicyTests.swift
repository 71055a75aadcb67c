import Testing
import TrafficPoliceCore

/// The rebalance policy by example: each test reads as a rule of DESIGN.md section 3.
@Suite struct RebalancePolicyTests {
    /// C = 1000, S = 100, soft cap 900: the platforms share 900, 300 each; a move is at least 9 (1% of 900).
    static let policy = try! CapacityPolicy(capacity: 1000)
    static let rebalancer = RebalancePolicy()

    static func listing(
        allocation: Int = 300, published: Int? = nil, sold: Int = 0, velocity: Double = 0, linked: Bool = true
    ) -> RebalanceState.Listing {
        .init(
            linked: linked, allocation: allocation, published: published ?? allocation, sold: sold, velocity: velocity)
    }

    static func state(
        _ eventbrite: RebalanceState.Listing, _ luma: RebalanceState.Listing, _ meetup: RebalanceState.Listing,
        mode: EventMode = .open, boxOffice: Int = 0
    ) -> RebalanceState {
        RebalanceState(
            policy: policy, mode: mode, boxOfficeSold: boxOffice,
            listings: [.eventbrite: eventbrite, .luma: luma, .meetup: meetup])
    }

    @Test func nothingSellsNothingMoves() {
        let state = Self.state(Self.listing(), Self.listing(), Self.listing())
        #expect(Self.rebalancer.plan(for: state) == .nothingToDo)
    }

    /// Velocities 60/30/10 (1.2, 0.6, 0.2 per second) on an equal split: over five minutes Eventbrite
    /// needs 360 but holds 300, Luma needs 180 and Meetup 60. The slowest donor (Meetup) gives the 60:
    /// its shrink is confirmed before the allocation moves, and Eventbrite grows last.
    @Test func quotaMovesTowardTheFastPlatformShrinkFirst() {
        let state = Self.state(
            Self.listing(velocity: 1.2), Self.listing(velocity: 0.6), Self.listing(velocity: 0.2))
        let plan = Self.rebalancer.plan(for: state)
        #expect(
            plan.steps == [
                .shrink(.meetup, publishedTo: 240), .confirmShrink(.meetup),
                .transfer(from: .meetup, to: .eventbrite, tickets: 60), .grow(.eventbrite, publishedTo: 360),
            ])
        let after = state.applying(plan)
        #expect(after[.eventbrite].allocation == 360 && after[.meetup].allocation == 240)
        #expect(after.unsoldAllocation == 900)
        #expect(Self.rebalancer.plan(for: after) == .nothingToDo)
    }

    /// A static split (`movesQuota` false) moves nothing, but still publishes each allocation.
    @Test func aStaticSplitMovesNoQuotaButPublishesTheAllocations() {
        let fixed = RebalancePolicy(configuration: .init(movesQuota: false))
        let skewed = Self.state(Self.listing(velocity: 3), Self.listing(velocity: 0.2), Self.listing(velocity: 0))
        #expect(fixed.plan(for: skewed) == .nothingToDo)
        let unpublished = Self.state(
            Self.listing(published: 0, velocity: 3), Self.listing(published: 350), Self.listing(velocity: 0))
        #expect(
            fixed.plan(for: unpublished).steps == [
                .shrink(.luma, publishedTo: 300), .confirmShrink(.luma), .grow(.eventbrite, publishedTo: 300),
            ])
    }

    /// When one donor is not enough, the next slowest gives the rest.
    @Test func aLargeNeedTakesFromTheSlowestFirstThenTheNext() {
        // Eventbrite needs 900 and holds 300; Meetup (quiet) keeps its reserve of 5, Luma keeps 60.
        let state = Self.state(
            Self.listing(velocity: 3), Self.listing(velocity: 0.2), Self.listing(velocity: 0))
        let plan = Self.rebalancer.plan(for: state)
        #expect(plan.transfers.map(\.from) == [.meetup, .luma])
        #expect(plan.transfers.map(\.tickets) == [295, 240])
        #expect(
            plan.steps == [
                .shrink(.luma, publishedTo: 60), .shrink(.meetup, publishedTo: 5),
                .confirmShrink(.luma), .confirmShrink(.meetup),
                .transfer(from: .meetup, to: .eventbrite, tickets: 295),
                .transfer(from: .luma, to: .eventbrite, tickets: 240),
                .grow(.eventbrite, publishedTo: 835),
            ])
    }

    /// Eventbrite holds little and will run out first, but Luma sells faster than it: Luma's spare
    /// quota is not given to a slower platform.
    @Test func quotaNeverMovesTowardASlowerPlatform() {
        let state = Self.state(
            Self.listing(allocation: 100, velocity: 1), Self.listing(allocation: 800, velocity: 1.5),
            Self.listing(allocation: 0))
        #expect(Self.rebalancer.plan(for: state) == .nothingToDo)
    }

    /// An unlinked platform publishes nothing, so its allocation moves without a shrink.
    @Test func anUnlinkedPlatformsQuotaMovesWithoutAShrink() {
        let state = Self.state(
            Self.listing(velocity: 2), Self.listing(velocity: 1), Self.listing(published: 0, linked: false))
        let plan = Self.rebalancer.plan(for: state)
        // Eventbrite needs 600, Luma 300: Eventbrite runs out first and takes 300, Luma is covered.
        #expect(
            plan.steps == [
                .transfer(from: .meetup, to: .eventbrite, tickets: 300), .grow(.eventbrite, publishedTo: 600),
            ])
    }

    /// A move smaller than the minimum (9 here) is not worth two platform calls.
    @Test func smallMovesAreSkipped() {
        // Eventbrite needs 306 (1.02/s) and holds 300: it lacks 6.
        let state = Self.state(
            Self.listing(velocity: 1.02), Self.listing(velocity: 0), Self.listing(velocity: 0))
        #expect(Self.rebalancer.plan(for: state) == .nothingToDo)
    }

    /// Sold counts: what a platform holds unsold is allocation − sold, and it never publishes below sold.
    @Test func soldTicketsStayWithTheirPlatform() {
        // Meetup sold 290 of 300 and is quiet: it keeps 5, gives 5 — below the minimum.
        // Luma sold 100 and is quiet: it gives 195 to Eventbrite, which needs 600 and holds 300.
        let state = Self.state(
            Self.listing(velocity: 2), Self.listing(sold: 100), Self.listing(sold: 290))
        let plan = Self.rebalancer.plan(for: state)
        #expect(
            plan.steps == [
                .shrink(.luma, publishedTo: 105), .confirmShrink(.luma),
                .transfer(from: .luma, to: .eventbrite, tickets: 195), .grow(.eventbrite, publishedTo: 495),
            ])
    }

    /// The step that made sold reach the soft cap (900) may not show in the snapshot's mode yet:
    /// every linked platform is closed (published = sold), each close confirmed, then red alert.
    @Test func reachingTheSoftCapClosesEverythingThenEntersRedAlert() {
        let state = Self.state(
            Self.listing(sold: 300, velocity: 5), Self.listing(sold: 290), Self.listing(sold: 250, linked: false),
            boxOffice: 60)
        let plan = Self.rebalancer.plan(for: state)
        #expect(
            plan.steps == [.close(.luma), .confirmShrink(.luma), .enterRedAlert])
        #expect(!plan.grows && plan.transfers.isEmpty)
        let after = state.applying(plan)
        #expect(after.mode == .redAlert && after.offeredUnsold == 0 && after.unsoldAllocation == 0)
    }

    @Test func inRedAlertOrClosedEveryPlatformIsClosedAndNothingGrows() {
        for mode in [EventMode.redAlert, .closed] {
            // The allocations already equal sold (the script set them); the platforms still publish more.
            let state = Self.state(
                Self.listing(allocation: 400, published: 500, sold: 400, velocity: 9),
                Self.listing(allocation: 100, published: 300, sold: 100),
                Self.listing(allocation: 50, published: 50, sold: 50), mode: mode)
            let plan = Self.rebalancer.plan(for: state)
            #expect(
                plan.steps == [.close(.eventbrite), .close(.luma), .confirmShrink(.eventbrite), .confirmShrink(.luma)])
            #expect(Self.rebalancer.plan(for: state.applying(plan)) == .nothingToDo)
        }
    }

    /// In fail-safe Redis is gone: the policy plans nothing (closing is the fail-safe's business).
    @Test func failSafePlansNothing() {
        let state = Self.state(
            Self.listing(velocity: 50), Self.listing(velocity: 0), Self.listing(published: 10, linked: false),
            mode: .failsafe)
        #expect(Self.rebalancer.plan(for: state) == .nothingToDo)
    }

    /// A platform publishing more than its allocation (a stale publish) is shrunk back; one publishing
    /// less (a grow that failed) is grown back, after the shrink is confirmed.
    @Test func stalePublishesAreBroughtBackToTheAllocation() {
        let state = Self.state(
            Self.listing(published: 350), Self.listing(published: 200), Self.listing())
        #expect(
            Self.rebalancer.plan(for: state).steps == [
                .shrink(.eventbrite, publishedTo: 300), .confirmShrink(.eventbrite), .grow(.luma, publishedTo: 300),
            ])
    }

    /// The simulator counts a shrink as not there until it is confirmed: a plan that moved the
    /// allocation and grew before the confirmation would break G2, and the simulator shows it.
    @Test func theSimulatorCatchesAGrowBeforeTheConfirmation() {
        var state = Self.state(Self.listing(velocity: 1.2), Self.listing(), Self.listing())
        state.apply(.shrink(.meetup, publishedTo: 240))
        #expect(state[.meetup].offered == 300)  // the platform may still sell 300
        state.apply(.transfer(from: .meetup, to: .eventbrite, tickets: 60))
        state.apply(.grow(.eventbrite, publishedTo: 360))
        #expect(!state.isPublishSafe)  // 960 on offer against 900 allocated
        state.apply(.confirmShrink(.meetup))
        #expect(state.isPublishSafe)
    }

    /// The state is built from Redis's counters as the rebalancer reads them.
    @Test func stateFromEventCounters() throws {
        var stock = EventStock(policy: Self.policy)
        _ = try stock.reserve(platform: .luma, orderID: "gst-1", quantity: 4)
        let state = RebalanceState(
            policy: Self.policy, counters: stock.counters, linked: [.eventbrite, .luma],
            published: [.eventbrite: 300, .luma: 300, .meetup: 300], velocity: [.luma: 2])
        #expect(state[.luma].sold == 4 && state[.luma].allocation == 300 && state[.luma].velocity == 2)
        #expect(!state[.meetup].linked && state[.meetup].published == 0)
        #expect(state.isPublishSafe && state.totalSold == 4)
        // Luma needs 600 and holds 296. Meetup (unlinked) and Eventbrite are both quiet; the unlinked
        // one gives first (no platform call): 300. Luma then lacks 4, below the minimum of 9.
        let plan = Self.rebalancer.plan(for: state)
        #expect(plan.transfers.map(\.from) == [.meetup])
        #expect(plan.steps.last == .grow(.luma, publishedTo: 600))
    }
}
