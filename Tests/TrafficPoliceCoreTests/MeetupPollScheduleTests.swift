import Testing
import TrafficPoliceCore

/// An event's RSVP list as Meetup serves it: newest-updated first, cursors are offsets.
private struct RSVPList {
    var rsvps: [MeetupRSVP] = []
    var clock = 0

    mutating func add(_ count: Int, status: String = "YES", guests: Int = 0) {
        for _ in 0..<count {
            clock += 1
            rsvps.insert(MeetupRSVP(id: "r\(clock)", status: status, guestsCount: guests, updated: "u\(clock)"), at: 0)
        }
    }

    /// The member changes the RSVP: it moves to the top.
    mutating func change(_ id: String, status: String, guests: Int = 0) {
        guard let index = rsvps.firstIndex(where: { $0.id == id }) else { return }
        clock += 1
        rsvps.remove(at: index)
        rsvps.insert(MeetupRSVP(id: id, status: status, guestsCount: guests, updated: "u\(clock)"), at: 0)
    }

    func page(_ cursor: RSVPCursor, _ size: Int) -> (rsvps: [MeetupRSVP], hasNext: Bool, end: String?) {
        let start = cursor.after.flatMap(Int.init).map { $0 + 1 } ?? 0
        guard start < rsvps.count else { return ([], false, nil) }
        let end = min(rsvps.count, start + size)
        return (Array(rsvps[start..<end]), end < rsvps.count, String(end - 1))
    }
}

/// Runs a pass to its end against `list`; `failAt` makes the n-th enqueue (0-based) fail.
/// `between` runs after each read (changes arriving while the pass pages).
private func run(
    _ pass: inout MeetupPollPass, _ list: inout RSVPList, failAt: Int? = nil, failRead: Int? = nil,
    between: (inout RSVPList) -> Void = { _ in }
) -> (queued: [MeetupRSVP], reads: [RSVPCursor]) {
    var queued: [MeetupRSVP] = []
    var reads: [RSVPCursor] = []
    while let cursor = pass.nextRead {
        if reads.count == failRead {
            pass.failed()
            return (queued, reads)
        }
        reads.append(cursor)
        let page = list.page(cursor, pass.pageSize)
        between(&list)
        for rsvp in pass.received(page.rsvps, hasNextPage: page.hasNext, endCursor: page.end) {
            if queued.count == failAt {
                pass.failed()
                return (queued, reads)
            }
            queued.append(rsvp)
            pass.enqueued(rsvp)
        }
    }
    return (queued, reads)
}

private func newPass(
    _ tracker: RSVPChangeTracker = .init(), rescan: RSVPCursor? = nil, page: Int = 5, maxPages: Int = 4
) -> MeetupPollPass {
    MeetupPollPass(eventID: "e", pageSize: page, maxPages: maxPages, tracker: tracker, rescan: rescan, firstRead: false)
}

@Suite struct MeetupPollPassTests {
    @Test func aFirstReadPagesThroughEveryRSVPAndASecondFindsNothing() {
        var list = RSVPList()
        list.add(12)
        var pass = newPass()
        let first = run(&pass, &list)
        #expect(first.queued.count == 12)
        #expect(first.reads == [.top, .after("4"), .after("9")])
        #expect(pass.rescan == nil && pass.isFinished)
        var again = newPass(pass.tracker)
        let second = run(&again, &list)
        #expect(second.queued.isEmpty && second.reads == [.top])
    }

    @Test func theHeadStopsAtTheFirstPageWithAnOldRSVP() {
        var list = RSVPList()
        list.add(12)
        var pass = newPass()
        _ = run(&pass, &list)
        list.add(2)
        list.change("r1", status: "NO")
        var next = newPass(pass.tracker)
        let result = run(&next, &list)
        #expect(result.queued.map(\.id) == ["r1", "r14", "r13"])
        #expect(result.reads == [.top])
        #expect(next.headChanges == 3)
    }

    @Test func aPollBoundedByItsPagesLeavesARescanThatLaterPollsFinish() {
        var list = RSVPList()
        list.add(30)
        var queued: [String] = []
        var pass = newPass(maxPages: 2)
        queued += run(&pass, &list).queued.map(\.id)
        #expect(queued.count == 10)
        #expect(pass.rescan == .after("9"))
        var polls = 0
        while pass.rescan != nil && polls < 20 {
            list.add(1)  // activity on top meanwhile
            var next = newPass(pass.tracker, rescan: pass.rescan, maxPages: 2)
            queued += run(&next, &list).queued.map(\.id)
            pass = next
            polls += 1
        }
        #expect(pass.rescan == nil)
        #expect(Set(queued).count == queued.count)
        #expect(Set(queued) == Set(list.rsvps.map(\.id)))
    }

    @Test func anRSVPPushedOntoTheNextPageDoesNotEndTheHead() {
        var list = RSVPList()
        list.add(12)
        var pass = newPass()
        var pushed = false
        let result = run(&pass, &list) { list in
            if !pushed {
                pushed = true
                list.add(1)  // page 2 now starts with page 1's last RSVP
            }
        }
        #expect(Set(result.queued.map(\.id)).count == 12)
        #expect(result.reads.count == 3)
        var again = newPass(pass.tracker)
        #expect(run(&again, &list).queued.map(\.id) == ["r13"])
    }

    @Test func aFailedEnqueueForgetsWhatWasNotQueuedAndRescansFromItsPage() {
        var list = RSVPList()
        list.add(12)
        var pass = newPass()
        let first = run(&pass, &list, failAt: 7)  // the third RSVP of page 2
        #expect(first.queued.count == 7)
        #expect(pass.rescan == .after("4"))
        list.add(6)  // new activity pushes the forgotten RSVPs further down
        var all = first.queued.map(\.id)
        var next = pass
        for _ in 0..<5 {
            next = newPass(next.tracker, rescan: next.rescan)
            all += run(&next, &list).queued.map(\.id)
            if next.rescan == nil { break }
        }
        #expect(next.rescan == nil)
        #expect(Set(all) == Set(list.rsvps.map(\.id)))
        #expect(Set(all).count == all.count)
    }

    @Test func aFailedFirstReadLeavesNothingAndALaterFailedReadLeavesARescan() {
        var list = RSVPList()
        list.add(12)
        var pass = newPass()
        #expect(run(&pass, &list, failRead: 0).queued.isEmpty)
        #expect(pass.rescan == nil && pass.isFinished)
        var again = newPass(pass.tracker)
        #expect(run(&again, &list, failRead: 1).queued.count == 5)
        #expect(again.rescan == .after("4"))
    }

    @Test func cursorsMergeIntoTheTopWhenTheyDiffer() {
        #expect(RSVPCursor.merge(nil, .after("4")) == .after("4"))
        #expect(RSVPCursor.merge(.after("4"), nil) == .after("4"))
        #expect(RSVPCursor.merge(.after("4"), .after("4")) == .after("4"))
        #expect(RSVPCursor.merge(.after("4"), .after("9")) == .top)
    }
}

@Suite struct MeetupPollScheduleTests {
    private func configuration() -> MeetupPollSchedule.Configuration {
        var configuration = MeetupPollSchedule.Configuration()
        configuration.errorBackoffMilliseconds = 1_000
        configuration.maxErrorBackoffMilliseconds = 8_000
        return configuration
    }

    /// Polls `id` at `now` finding `changes` new RSVPs at the head.
    private func poll(_ schedule: inout MeetupPollSchedule, _ id: String, at now: Int64, changes: Int) {
        guard var pass = schedule.pass(for: id) else { return }
        let fresh = (0..<changes).map { MeetupRSVP(id: "\(id)-\(now)-\($0)", status: "YES", guestsCount: 0, updated: "\(now)") }
        for rsvp in pass.received(fresh, hasNextPage: false, endCursor: nil) { pass.enqueued(rsvp) }
        schedule.finish(pass, now: now)
    }

    @Test func newEventsAreDueAtOnceAndUnlinkedOnesAreDropped() {
        var schedule = MeetupPollSchedule(configuration: configuration())
        schedule.sync(linked: ["b", "a"], now: 100)
        #expect(schedule.next()?.eventID == "a" && schedule.next()?.dueAt == 100)
        schedule.sync(linked: ["b"], now: 200)
        #expect(schedule.events.keys.sorted() == ["b"])
        #expect(schedule.pass(for: "a") == nil)
    }

    @Test func anIdleEventIsReadEveryThirtySecondsAndABusyOneSooner() {
        var schedule = MeetupPollSchedule(configuration: configuration())
        schedule.sync(linked: ["idle", "busy"], now: 0)
        poll(&schedule, "idle", at: 0, changes: 0)
        poll(&schedule, "busy", at: 0, changes: 0)  // first reads do not count as velocity
        #expect(schedule.events["idle"]?.dueAt == 30_000)
        #expect(schedule.events["busy"]?.dueAt == 30_000)
        for second in 1...20 { poll(&schedule, "busy", at: Int64(second) * 1_000, changes: 10) }
        let busy = schedule.events["busy"]
        #expect((busy?.schedule.intervalMilliseconds ?? .max) < 30_000)
        #expect((busy?.dueAt ?? .max) < 20_000 + 30_000)
        #expect(schedule.events["idle"]?.dueAt == 30_000)
        #expect(schedule.next()?.eventID == "busy")
        #expect(schedule.plan.pointsPerMinute <= Double(schedule.configuration.planner.pointsPerMinute))
    }

    @Test func failuresBackOffDoublingUpToTheCapAndASuccessResets() {
        var schedule = MeetupPollSchedule(configuration: configuration())
        schedule.sync(linked: ["e"], now: 0)
        var expected: [Int64] = []
        var due: [Int64] = []
        for failure in 1...5 {
            guard var pass = schedule.pass(for: "e") else { return }
            pass.failed()
            schedule.fail(pass, now: 0)
            due.append(schedule.events["e"]?.dueAt ?? -1)
            expected.append(min(8_000, 1_000 << (failure - 1)))
        }
        #expect(due == expected)
        poll(&schedule, "e", at: 10_000, changes: 0)
        #expect(schedule.events["e"]?.failures == 0)
        #expect(schedule.events["e"]?.dueAt == 40_000)
    }

    @Test func aPendingRescanIsReadAgainAtTheShortestInterval() {
        var schedule = MeetupPollSchedule(configuration: configuration())
        schedule.sync(linked: ["e"], now: 0)
        guard var pass = schedule.pass(for: "e") else { return }
        var list = RSVPList()
        list.add(400)
        _ = run(&pass, &list)
        #expect(pass.rescan != nil)
        schedule.finish(pass, now: 1_000)
        #expect(schedule.events["e"]?.dueAt == 1_000 + schedule.configuration.planner.minIntervalMilliseconds)
    }
}
