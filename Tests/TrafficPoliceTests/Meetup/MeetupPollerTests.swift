import CurlBridge
import Foundation
import Logging
import PlatformClients
import ServiceLifecycle
import Synchronization
import Testing
import TrafficPolice
import TrafficPoliceCore

/// One test's world: the simulator, real Redis and PostgreSQL, a queue of its own, and a gateway
/// whose Meetup budget is `budget`.
private final class MeetupWorld: Sendable {
    let sim: MeetupSimulator
    let stack: TestStack
    let queue: DeliveryQueue
    let gateway: PlatformGateway
    /// The Meetup events this test linked.
    let mine = Mutex<[String]>([])

    init(sim: MeetupSimulator, stack: TestStack, queue: DeliveryQueue, gateway: PlatformGateway) {
        self.sim = sim
        self.stack = stack
        self.queue = queue
        self.gateway = gateway
    }

    static func with(
        budget: Budget? = nil, _ body: (MeetupWorld) async throws -> Void
    ) async throws {
        try await MeetupSimulator.with { sim in
            try await TestStack.with { stack in
                try await QueueTesting.withQueue(stack.redis, try QueueTesting.configuration()) { queue in
                    let throttler = try Throttler(
                        redis: stack.redis, budgets: budget.map { [.meetup: $0] } ?? [:], maxWait: .seconds(30))
                    let endpoint = PlatformEndpoint(
                        platform: .meetup, credential: PlatformCredential(sim.token), baseURL: sim.graphQLURL,
                        timeout: .seconds(5))
                    let gateway = PlatformGateway(
                        endpoints: [.meetup: endpoint], throttler: throttler, curl: sim.curl,
                        logger: Logger(label: "test.gateway"))
                    try await body(MeetupWorld(sim: sim, stack: stack, queue: queue, gateway: gateway))
                }
            }
        }
    }

    /// An event of ours linked to a new Meetup event with RSVP limit `capacity`; both ids.
    func linkedEvent(capacity: Int? = nil) async throws -> (event: EventID, meetup: String) {
        let event = try TestServers.eventID("mu")
        let meetup = try await sim.createEvent(capacity: capacity)
        try await stack.desk.create(id: event, name: "Meetup poll", policy: try CapacityPolicy(capacity: 300), split: .equal)
        try await stack.desk.link(event, platform: .meetup, platformEventID: meetup, ticketClassID: nil)
        mine.withLock { $0.append(meetup) }
        return (event, meetup)
    }

    /// A poller with short intervals, pages of `page` and at most `maxPages` pages a poll.
    func poller(page: Int = 5, maxPages: Int = 4, sink: (any DeliverySink)? = nil) -> MeetupPoller {
        var configuration = MeetupPoller.Configuration()
        configuration.schedule.planner.minIntervalMilliseconds = 100
        configuration.schedule.planner.maxIntervalMilliseconds = 300
        configuration.schedule.planner.minPage = page
        configuration.schedule.planner.maxPage = page
        configuration.schedule.maxPagesPerPoll = maxPages
        configuration.schedule.errorBackoffMilliseconds = 100
        configuration.schedule.maxErrorBackoffMilliseconds = 400
        configuration.linkRefresh = .milliseconds(100)
        // Only this test's events (the ledger is shared with other tests), as the ledger lists them.
        let ledger = stack.ledger
        let mine = Set(self.mine.withLock { $0 })
        return MeetupPoller(
            gateway: gateway, links: { Set(try await ledger.links(on: .meetup).keys).intersection(mine) },
            sink: sink ?? queue, configuration: configuration, logger: Logger(label: "test.meetup-poller"))
    }

    /// Every job in the queue now, read as a consumer and acked.
    func takeJobs() async throws -> [QueueJob] {
        var all: [QueueJob] = []
        while true {
            let jobs = try await queue.nextJobs(consumer: "meetup-test", count: 100)
            if jobs.isEmpty { return all }
            for job in jobs { _ = try await queue.ack(job) }
            all += jobs
        }
    }

    /// Takes jobs until `count` have come (bounded); returns them all.
    func takeJobs(until count: Int, timeout: Duration = .seconds(15)) async throws -> [QueueJob] {
        var all: [QueueJob] = []
        let deadline = ContinuousClock.now + timeout
        while all.count < count && ContinuousClock.now < deadline {
            all += try await takeJobs()
            if all.count < count { try await Task.sleep(for: .milliseconds(50)) }
        }
        return all
    }

    /// Waits until the simulator has served `more` further Meetup requests (further polls happened).
    func waitForPolls(_ more: Int) async throws {
        let target = try await sim.requests() + more
        #expect(try await QueueTesting.eventually(timeout: .seconds(15)) { try await sim.requests() >= target })
    }
}

/// Runs the poller around `body`; it must stop within 2 s of graceful shutdown.
private func whileRunning(_ poller: MeetupPoller, _ body: () async throws -> Void) async throws {
    try await ServiceTesting.whileRunning([poller], stopWithin: .seconds(2), body)
}

private func parsed(_ job: QueueJob) throws -> MeetupRSVPDelivery {
    try MeetupRSVPDelivery.parse(job.delivery.body)
}

@Suite(.serialized, .timeLimit(.minutes(2))) struct MeetupPollerTests {
    @Test func aPollQueuesEachRSVPOnceWithGuestsWaitlistAndNo() async throws {
        try await MeetupWorld.with { world in
            let (_, meetup) = try await world.linkedEvent(capacity: 5)
            let guests = try await world.sim.rsvp(meetup, quantity: 3)  // YES + 2 guests
            let single = try await world.sim.rsvp(meetup)
            let leaving = try await world.sim.rsvp(meetup)
            let waiting = try await world.sim.rsvp(meetup)  // full: WAITLIST
            #expect(waiting.status == "WAITLIST")
            try await world.sim.cancel(rsvpID: leaving.id)  // NO; promotes the waitlist
            let late = try await world.sim.rsvp(meetup, quantity: 2)  // full again: WAITLIST
            try await whileRunning(world.poller()) {
                let jobs = try await world.takeJobs(until: 5)
                #expect(jobs.count == 5)
                let byID = Dictionary(try jobs.map { (try parsed($0).rsvp.id, try parsed($0)) }) { a, _ in a }
                #expect(byID[guests.id]?.rsvp.status == "YES" && byID[guests.id]?.rsvp.guestsCount == 2)
                #expect(byID[guests.id]?.rsvp.quantity == 3)
                #expect(byID[single.id]?.rsvp.quantity == 1)
                #expect(byID[leaving.id]?.rsvp.status == "NO" && byID[leaving.id]?.rsvp.quantity == 0)
                #expect(byID[waiting.id]?.rsvp.status == "YES")
                #expect(byID[late.id]?.rsvp.status == "WAITLIST" && byID[late.id]?.rsvp.quantity == 0)
                for job in jobs {
                    let rsvp = try parsed(job)
                    #expect(job.delivery.platform == .meetup && job.delivery.kind == "rsvp")
                    #expect(job.delivery.dedupeKey == "meetup:" + rsvp.rsvp.fingerprint)
                    #expect(rsvp.meetupEventID == meetup)
                }
                try await world.waitForPolls(3)
                #expect(try await world.takeJobs().isEmpty, "later polls add no job")
            }
        }
    }

    @Test func aCancellationMakesOneJobAndTheHandlerReleasesIt() async throws {
        try await MeetupWorld.with { world in
            let (event, meetup) = try await world.linkedEvent()
            let handler = OrderDeliveryHandler(desk: world.stack.desk)
            let rsvp = try await world.sim.rsvp(meetup, quantity: 2)
            _ = try await world.sim.rsvp(meetup)
            try await whileRunning(world.poller()) {
                for job in try await world.takeJobs(until: 2) {
                    #expect(try await handler.handle(job.delivery) == .applied("accepted × \(try parsed(job).rsvp.quantity)"))
                }
                #expect(try await world.stack.desk.snapshot(event).platforms["meetup"]?.sold == 3)
                try await world.sim.cancel(rsvpID: rsvp.id)
                let jobs = try await world.takeJobs(until: 1)
                #expect(jobs.count == 1)
                guard let job = jobs.first else { return }
                #expect(try parsed(job).rsvp.id == rsvp.id && parsed(job).rsvp.status == "NO")
                #expect(try await handler.handle(job.delivery) == .applied("NO: released"))
                #expect(try await handler.handle(job.delivery) == .applied("NO: holds nothing"), "a repeat changes nothing")
                try await world.waitForPolls(3)
                #expect(try await world.takeJobs().isEmpty)
            }
            let order = try await world.stack.ledger.order(event, platform: .meetup, orderID: rsvp.id)
            #expect(order?.released == true)
            #expect(try await world.stack.desk.snapshot(event).platforms["meetup"]?.sold == 1)
        }
    }

    @Test func morePagesOfChangesThanAPollMayReadAreAllQueued() async throws {
        try await MeetupWorld.with { world in
            let (_, meetup) = try await world.linkedEvent()
            var ids: Set<String> = []
            for _ in 0..<23 { ids.insert(try await world.sim.rsvp(meetup).id) }
            // Pages of 5, at most 2 a poll: the first poll reads 10, later polls the rest.
            try await whileRunning(world.poller(page: 5, maxPages: 2)) {
                let jobs = try await world.takeJobs(until: 23)
                #expect(jobs.count == 23)
                #expect(Set(try jobs.map { try parsed($0).rsvp.id }) == ids)
                try await world.waitForPolls(3)
                #expect(try await world.takeJobs().isEmpty)
            }
        }
    }

    @Test func pollingManyEventsStaysWithinTheMeetupPointsBudget() async throws {
        // 60 points per 6 s on both sides: the throttler runs 80% (48) plus a burst of 10.
        let budget = try Budget(limit: 60, periodMicros: 6_000_000, marginPercent: 80, burst: 10, failsafeReserve: 2)
        try await MeetupWorld.with(budget: budget) { world in
            try await world.sim.configure(pointsPerWindow: 60, windowSeconds: 6)
            var expected = 0
            for _ in 0..<3 {
                let (_, meetup) = try await world.linkedEvent()
                for _ in 0..<4 { _ = try await world.sim.rsvp(meetup) }
                expected += 4
            }
            try await whileRunning(world.poller(page: 5)) {
                // The planner is told to poll every 100 ms: far more than the budget allows.
                let jobs = try await world.takeJobs(until: expected)
                #expect(jobs.count == expected)
                try await Task.sleep(for: .seconds(7))
            }
            #expect(try await world.sim.rateLimited() == 0)
            #expect(try await world.sim.requests() >= 8)
        }
    }

    @Test func aRateLimitedPollBacksOffAndLosesNothing() async throws {
        try await MeetupWorld.with { world in
            // A shared token: Meetup allows 10 points per 2 s, the throttler believes 500 a minute,
            // so the third page of the first poll is refused.
            try await world.sim.configure(pointsPerWindow: 10, windowSeconds: 2)
            let (_, meetup) = try await world.linkedEvent()
            var ids: Set<String> = []
            for _ in 0..<12 { ids.insert(try await world.sim.rsvp(meetup).id) }
            try await whileRunning(world.poller(page: 5)) {
                let jobs = try await world.takeJobs(until: 12, timeout: .seconds(20))
                #expect(jobs.count == 12)
                #expect(Set(try jobs.map { try parsed($0).rsvp.id }) == ids)
                #expect(try await world.sim.rateLimited() >= 1)
            }
            #expect(try await world.takeJobs().isEmpty)
        }
    }

    @Test func jobsThatCouldNotBeQueuedAreReadAgain() async throws {
        try await MeetupWorld.with { world in
            let (_, meetup) = try await world.linkedEvent()
            var ids: Set<String> = []
            for _ in 0..<8 { ids.insert(try await world.sim.rsvp(meetup).id) }
            let flaky = FlakySink(queue: world.queue, failEvery: 3)
            try await whileRunning(world.poller(page: 5, sink: flaky)) {
                let jobs = try await world.takeJobs(until: 8)
                #expect(Set(try jobs.map { try parsed($0).rsvp.id }) == ids)
                #expect(jobs.count == 8)
            }
            #expect(flaky.failures > 0)
        }
    }

    @Test func withoutMeetupTheServiceOnlyWaitsForShutdown() async throws {
        try await MeetupWorld.with { world in
            let poller = MeetupPoller(
                gateway: PlatformGateway(
                    endpoints: [:], throttler: world.gateway.throttler, curl: world.sim.curl, logger: Logger(label: "t")),
                ledger: world.stack.ledger, sink: world.queue)
            _ = try await world.linkedEvent()
            try await whileRunning(poller) { try await Task.sleep(for: .milliseconds(300)) }
            #expect(try await world.sim.requests() == 0)
        }
    }
}

/// Fails every `failEvery`-th enqueue (Redis refusing), otherwise passes to the queue.
private final class FlakySink: DeliverySink, Sendable {
    let queue: DeliveryQueue
    let failEvery: Int
    private let count = Mutex<(calls: Int, failures: Int)>((0, 0))

    init(queue: DeliveryQueue, failEvery: Int) {
        self.queue = queue
        self.failEvery = failEvery
    }

    var failures: Int { count.withLock { $0.failures } }

    func enqueue(_ delivery: WebhookDelivery) async throws -> EnqueueResult {
        let fail = count.withLock { state -> Bool in
            state.calls += 1
            guard state.calls % failEvery == 0 else { return false }
            state.failures += 1
            return true
        }
        if fail { throw QueueError.unexpectedReply("injected failure") }
        return try await queue.enqueue(delivery)
    }
}
