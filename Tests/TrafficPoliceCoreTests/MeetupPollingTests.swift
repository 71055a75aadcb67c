import PropertyBased
import Testing
import TrafficPoliceCore

@Suite struct MeetupRSVPTests {
    @Test(arguments: [
        ("YES", 0, 1), ("YES", 2, 3), ("ATTENDED", 1, 2), ("NO", 3, 0), ("WAITLIST", 1, 0),
        ("YES_PENDING_PAYMENT", 0, 0), ("YES", -4, 1),
    ])
    func quantityIsOnePlusGuestsWhileHolding(status: String, guests: Int, quantity: Int) {
        #expect(MeetupRSVP(id: "1", status: status, guestsCount: guests, updated: "t").quantity == quantity)
    }

    @Test func fingerprintChangesWithStatusGuestsAndUpdated() {
        let rsvp = MeetupRSVP(id: "7", status: "YES", guestsCount: 1, updated: "2026-11-28T10:00:00Z")
        var other = rsvp
        #expect(rsvp.fingerprint == other.fingerprint)
        other.status = "NO"
        #expect(rsvp.fingerprint != other.fingerprint)
        other = rsvp
        other.guestsCount = 2
        #expect(rsvp.fingerprint != other.fingerprint)
        other = rsvp
        other.updated = "2026-11-28T10:00:01Z"
        #expect(rsvp.fingerprint != other.fingerprint)
    }
}

@Suite struct RSVPChangeTrackerTests {
    private func rsvp(_ id: Int, _ status: String = "YES", guests: Int = 0, at updated: Int) -> MeetupRSVP {
        MeetupRSVP(id: String(id), status: status, guestsCount: guests, updated: "u\(updated)")
    }

    @Test func reportsEachStateOnceAndReadsOnOnlyWhileAPageIsAllNew() {
        var tracker = RSVPChangeTracker()
        let first = tracker.changes(in: [rsvp(3, at: 3), rsvp(2, at: 2)])
        #expect(first.changed.map(\.id) == ["3", "2"])
        #expect(first.readOn)
        let repeatRead = tracker.changes(in: [rsvp(3, at: 3), rsvp(2, at: 2)])
        #expect(repeatRead.changed.isEmpty)
        #expect(!repeatRead.readOn)
        // RSVP 2 cancels (NO, newer updated), a new RSVP 4 arrives; 3 is unchanged: stop paging.
        let next = tracker.changes(in: [rsvp(2, "NO", at: 5), rsvp(4, guests: 1, at: 4), rsvp(3, at: 3)])
        #expect(next.changed.map(\.id) == ["2", "4"])
        #expect(next.changed.map(\.quantity) == [0, 2])
        #expect(!next.readOn)
        #expect(tracker.count == 3)
        #expect(!tracker.changes(in: []).readOn)
    }

    @Test func aForgottenRSVPIsReportedAgain() {
        var tracker = RSVPChangeTracker()
        _ = tracker.changes(in: [rsvp(1, at: 1)])
        tracker.forget("1")
        #expect(tracker.changes(in: [rsvp(1, at: 1)]).changed.count == 1)
    }
}

@Suite struct MeetupPollPlannerTests {
    let planner = MeetupPollPlanner()

    @Test func anIdleEventIsReadEveryThirtySecondsWithTheSmallestPage() {
        let plan = planner.plan(velocities: ["idle": 0])
        #expect(plan.schedules["idle"] == .init(intervalMilliseconds: 30_000, pageSize: 5))
        #expect(!plan.overBudget)
        #expect(plan.pointsPerMinute == 12)
    }

    @Test func aBusyEventIsReadOftenWithAPageCoveringItsChanges() throws {
        let plan = planner.plan(velocities: ["busy": 2, "idle": 0])
        let busy = try #require(plan.schedules["busy"])
        #expect(busy.intervalMilliseconds < 30_000)
        #expect(Double(busy.pageSize) >= 2 * Double(busy.intervalMilliseconds) / 1_000)
        #expect(plan.schedules["idle"]?.intervalMilliseconds == 30_000)
        #expect(plan.pointsPerMinute <= 300.03)
    }

    @Test func moreDemandThanPointsStretchesBusyEventsFirstAndSaysSo() {
        // 100 RSVP changes a second cannot be read with 300 points a minute.
        let plan = planner.plan(velocities: ["drop": 100, "idle": 0])
        #expect(plan.schedules["idle"]?.intervalMilliseconds == 30_000)
        #expect(plan.schedules["drop"]?.pageSize == 50)
        #expect(plan.pointsPerMinute <= 300.03)
        #expect(!plan.overBudget)  // within points: the changes it cannot cover are read on the next pages

        var small = MeetupPollPlanner.Configuration()
        small.pointsPerMinute = 20
        let crowded = MeetupPollPlanner(configuration: small).plan(velocities: ["a": 0, "b": 0, "c": 0])
        #expect(crowded.overBudget)
        #expect(crowded.pointsPerMinute <= 20.01)
    }

    /// Any mix of velocities: within the points whenever idle events alone fit, never faster than the
    /// shortest interval, never slower than the longest unless over budget, pages within bounds.
    @Test func plansStayWithinTheirBounds() async {
        await propertyCheck(
            count: 500, input: Gen.int(in: 0...5_000).array(of: 1...40)
        ) { tenths in
            let velocities = Dictionary(uniqueKeysWithValues: tenths.enumerated().map { ("e\($0)", Double($1) / 10) })
            let plan = planner.plan(velocities: velocities)
            #expect(plan.schedules.count == velocities.count)
            for schedule in plan.schedules.values {
                #expect(schedule.intervalMilliseconds >= 2_000)
                #expect((5...50).contains(schedule.pageSize))
                if !plan.overBudget { #expect(schedule.intervalMilliseconds <= 30_000) }
            }
            #expect(plan.pointsPerMinute <= 300.03)
            // Every event at the longest interval with the smallest page fits: never over budget.
            if velocities.count * 12 <= 300 { #expect(!plan.overBudget) }
            // Past the longest interval only once every page is the smallest.
            if plan.overBudget { #expect(plan.schedules.values.allSatisfy { $0.pageSize == 5 }) }
        }
    }
}

@Suite struct SalesVelocityTests {
    @Test func aSteadyFlowSettlesAtItsRateAndFadesWhenItStops() {
        var velocity = SalesVelocity(windowMilliseconds: 10_000)
        for second in 0..<120 { velocity.record(5, at: Int64(second) * 1_000) }
        #expect(abs(velocity.perSecond(at: 119_000) - 5) < 0.3)
        #expect(velocity.perSecond(at: 129_000) < 5 * 0.4)
        #expect(velocity.perSecond(at: 300_000) < 0.01)
        #expect(SalesVelocity().perSecond(at: 1_000) == 0)
    }

    @Test func timeGoingBackwardsCountsAsNoTime() {
        var velocity = SalesVelocity(windowMilliseconds: 1_000)
        velocity.record(10, at: 5_000)
        velocity.record(10, at: 4_000)
        #expect(abs(velocity.perSecond(at: 5_000) - 20) < 1e-9)
    }
}
