import Testing
import TrafficPoliceCore

/// When the rebalancer runs a pass: the rules of ``RebalanceTrigger``, one by one.
@Suite struct RebalanceTriggerTests {
    static let linked: Set<Platform> = [.eventbrite, .luma, .meetup]
    static let softCap = 900

    /// C = 1000, allocations 300 each unless given.
    static func counters(
        sold: [Platform: Int] = [:], allocation: [Platform: Int] = [:], boxOffice: Int = 0, mode: EventMode = .open
    ) -> EventCounters {
        var held: [SalesChannel: Int] = [.boxOffice: boxOffice]
        var allocations: [Platform: Int] = [:]
        for platform in Platform.allCases {
            held[.platform(platform)] = sold[platform] ?? 0
            allocations[platform] = allocation[platform] ?? 300
        }
        let total = held.values.reduce(0, +)
        return EventCounters(capacity: 1000, stock: 1000 - total, allocation: allocations, sold: held, mode: mode)
    }

    static let published: [Platform: Int] = [.eventbrite: 300, .luma: 300, .meetup: 300]

    static func trigger() -> RebalanceTrigger {
        RebalanceTrigger(
            configuration: .init(
                intervalMilliseconds: 10_000, triggerShare: 0.8, minimumGapMilliseconds: 1_000,
                velocityWindowMilliseconds: 60_000))
    }

    @Test func theFirstObservationIsDueAndThenTheInterval() {
        var trigger = Self.trigger()
        #expect(trigger.observe(Self.counters(), softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 0) == .interval)
        trigger.passed(at: 0)
        #expect(trigger.observe(Self.counters(), softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 9_999) == nil)
        #expect(trigger.observe(Self.counters(), softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 10_000) == .interval)
    }

    /// A platform that sold 80% of its allocation triggers a pass once per allocation, not before the gap.
    @Test func aPlatformNearItsAllocationTriggersOncePerAllocation() {
        var trigger = Self.trigger()
        _ = trigger.observe(Self.counters(), softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 0)
        trigger.passed(at: 0)
        let busy = Self.counters(sold: [.eventbrite: 240])
        #expect(trigger.observe(busy, softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 500) == nil, "within the gap")
        #expect(trigger.observe(busy, softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 1_000) == .trigger)
        trigger.passed(at: 1_000)
        #expect(trigger.observe(busy, softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 2_500) == nil, "same allocation: once")
        let grown = Self.counters(sold: [.eventbrite: 300], allocation: [.eventbrite: 360, .meetup: 240])
        #expect(trigger.observe(grown, softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 3_000) == .trigger)
    }

    /// An unlinked platform never triggers (it cannot sell).
    @Test func anUnlinkedPlatformDoesNotTrigger() {
        var trigger = Self.trigger()
        _ = trigger.observe(Self.counters(), softCap: Self.softCap, published: Self.published, linked: [.eventbrite], at: 0)
        trigger.passed(at: 0)
        let counters = Self.counters(sold: [.meetup: 290])
        #expect(trigger.observe(counters, softCap: Self.softCap, published: Self.published, linked: [.eventbrite], at: 2_000) == nil)
    }

    /// Past the soft cap a pass is due at once, every tick, until every linked platform publishes what it sold.
    @Test func pastTheSoftCapClosingIsDueUntilEveryPlatformIsClosed() {
        var trigger = Self.trigger()
        _ = trigger.observe(Self.counters(), softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 0)
        trigger.passed(at: 0)
        let sold: [Platform: Int] = [.eventbrite: 300, .luma: 300, .meetup: 300]
        let red = Self.counters(sold: sold, allocation: sold, mode: .redAlert)
        #expect(trigger.observe(red, softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 10) == nil, "already closed at 300")
        let partly = Self.counters(sold: [.eventbrite: 300, .luma: 250, .meetup: 10], allocation: [.eventbrite: 300, .luma: 250, .meetup: 10], boxOffice: 340, mode: .redAlert)
        #expect(trigger.observe(partly, softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 20) == .closing)
        trigger.passed(at: 20)
        #expect(trigger.observe(partly, softCap: Self.softCap, published: Self.published, linked: Self.linked, at: 30) == .closing, "no gap for closing")
        let closed: [Platform: Int] = [.eventbrite: 300, .luma: 250, .meetup: 10]
        #expect(trigger.observe(partly, softCap: Self.softCap, published: closed, linked: Self.linked, at: 40) == nil)
        // Open with sold at the soft cap (the snapshot raced the script): closing, even when closed.
        let atCap = Self.counters(sold: closed, allocation: closed, boxOffice: 340)
        #expect(trigger.observe(atCap, softCap: Self.softCap, published: closed, linked: Self.linked, at: 50) == .closing)
    }

    @Test func failsafeIsNeverDue() {
        var trigger = Self.trigger()
        #expect(trigger.observe(Self.counters(mode: .failsafe), softCap: Self.softCap, published: [:], linked: Self.linked, at: 0) == nil)
        #expect(trigger.observe(Self.counters(mode: .failsafe), softCap: Self.softCap, published: [:], linked: Self.linked, at: 100_000) == nil)
    }

    /// Velocities come from the sold counts observed: 30 tickets a second for 10 s on Eventbrite.
    @Test func velocitiesFollowTheSoldCounts() {
        var trigger = Self.trigger()
        for second in 0...10 {
            _ = trigger.observe(
                Self.counters(sold: [.eventbrite: second * 30], allocation: [.eventbrite: 600]), softCap: Self.softCap,
                published: Self.published, linked: Self.linked, at: Int64(second) * 1_000)
        }
        let velocities = trigger.velocities(at: 10_000)
        #expect((velocities[.eventbrite] ?? 0) > 3, "rising toward 30/s over a 60 s window")
        #expect(velocities[.luma] == 0)
        #expect(velocities[.meetup] == 0)
    }
}
