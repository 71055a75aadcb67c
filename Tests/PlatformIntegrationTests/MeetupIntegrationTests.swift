import Foundation
import PlatformClients
import PlatformSimulator
import Testing

@Suite("MeetupClient against the simulator", .timeLimit(.minutes(1)))
struct MeetupIntegrationTests {
    @Test func rsvpsPageThroughYesWaitlistAndNo() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("meetup", id: "m1", capacity: 4)
            let client = sim.meetup()
            let a = try await sim.sold("meetup", "m1", quantity: 2)
            let b = try await sim.sold("meetup", "m1", quantity: 1)
            let c = try await sim.sold("meetup", "m1", quantity: 1)
            let d = try await sim.sold("meetup", "m1", quantity: 2, waitlisted: true)
            let e = try await sim.sold("meetup", "m1", quantity: 1, waitlisted: true)
            try await sim.cancel("meetup", c)  // c → NO; e (1 seat) is promoted, d (2 seats) still waits

            let page = try await client.rsvps(eventID: "m1", first: 2)
            #expect(page.event.id == "m1" && page.event.maxTickets == 4 && page.event.rsvpSettings?.rsvpsClosed == false)
            #expect(page.totalCount == 5 && page.yesCount == 3 && page.waitlistCount == 1 && page.noCount == 1)
            #expect(page.rsvps.count == 2 && page.hasNextPage && page.endCursor != nil)

            let all = try await client.allRsvps(eventID: "m1", first: 2)
            #expect(Set(all.map(\.id)) == [a, b, c, d, e] && all.count == 5)
            let status = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.status) })
            #expect(status == [a: .yes, b: .yes, c: .no, d: .waitlist, e: .yes])
            let quantity = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.quantity) })
            #expect(quantity == [a: 2, b: 1, c: 0, d: 0, e: 1])
            #expect(all.allSatisfy { $0.updated.flatMap(PlatformDate.parse) != nil && $0.member != nil })

            let yesOnly = try await client.allRsvps(eventID: "m1", statuses: [.yes])
            #expect(Set(yesOnly.map(\.id)) == [a, b, e])

            let missing = await callError { try await client.rsvps(eventID: "nope") }
            guard case .permanent(200, "NOT_FOUND", _)? = missing else {
                Issue.record("expected NOT_FOUND, got \(String(describing: missing))")
                return
            }
        }
    }

    @Test func editEventLimitWaitlistsAndClosedRsvpsRefuseSales() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("meetup", id: "m2", capacity: nil)
            let client = sim.meetup()
            _ = try await sim.sold("meetup", "m2", quantity: 2)
            let edited = try await client.editEvent(eventID: "m2", rsvpLimit: 3)
            #expect(edited.eventID == "m2" && edited.maxTickets == 3 && edited.cost == MeetupCost.mutation)
            _ = try await sim.sold("meetup", "m2", quantity: 1)
            let waiting = try await sim.sold("meetup", "m2", quantity: 1, waitlisted: true)

            let closed = try await client.closeEventRsvps(eventID: "m2")
            #expect(closed.eventID == "m2")
            #expect(try await client.rsvps(eventID: "m2").event.rsvpSettings?.rsvpsClosed == true)
            let refused = try await sim.sell("meetup", "m2")
            #expect(refused.status == 409 && refused.json["reason"] == "closed")
            _ = try await client.openEventRsvps(eventID: "m2")
            #expect(try await client.rsvps(eventID: "m2").event.rsvpSettings?.rsvpsClosed == false)

            // Removing the limit promotes the waitlist; the next RSVP is a YES.
            _ = try await client.editEvent(eventID: "m2", rsvpLimit: 0)
            let rsvps = try await client.allRsvps(eventID: "m2")
            #expect(rsvps.first { $0.id == waiting }?.status == .yes)
            _ = try await sim.sold("meetup", "m2", quantity: 3)

            let unknown = await callError { try await client.closeEventRsvps(eventID: "nope") }
            #expect(unknown == .permanent(status: 200, code: "EVENT_NOT_FOUND", message: "eventId: Event nope not found"))
            let changes = try await sim.control("GET", "/control/capacity-changes").json["capacity_changes"]?.arrayValue
            #expect(changes?.compactMap { $0["call"]?.stringValue } == [
                "mutation editEvent", "mutation closeEventRsvps", "mutation openEventRsvps", "mutation editEvent",
            ])
        }
    }

    @Test func aLoweredPointsBudgetIsRateLimitedWithResetAt() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("meetup", id: "m3", capacity: nil)
            let refused = await callError { try await sim.meetup(credential: "wrong").rsvps(eventID: "m3") }
            guard case .unauthorized(401, _)? = refused else {
                Issue.record("expected unauthorized, got \(String(describing: refused))")
                return
            }
            for _ in 0..<4 { _ = try await sim.sold("meetup", "m3") }
            try await sim.configure(["meetup": ["points_per_window": 5, "window_seconds": 60]])
            let client = sim.meetup()
            #expect(try await client.rsvps(eventID: "m3").cost == 5)
            let limited = await callError { try await client.rsvps(eventID: "m3") }
            guard case .rateLimited(nil, let resetAt?, let detail)? = limited else {
                Issue.record("expected RATE_LIMITED with resetAt, got \(String(describing: limited))")
                return
            }
            #expect(detail.contains("consumedPoints 5"))
            #expect(abs(resetAt.timeIntervalSince(sim.now) - 60) < 3)
            guard case .after(let wait) = limited?.retryAdvice(now: sim.now) else {
                Issue.record("expected a retry time")
                return
            }
            #expect(wait > .seconds(55) && wait <= .seconds(61))
            let mutation = await callError { try await client.closeEventRsvps(eventID: "m3") }
            guard case .rateLimited? = mutation else {
                Issue.record("expected the mutation to be rate limited too, got \(String(describing: mutation))")
                return
            }
            sim.advance(seconds: 61)
            #expect(try await client.rsvps(eventID: "m3", first: 2).cost == 3)
        }
    }

    /// DESIGN.md section 4's model, computed by the client (`MeetupCost`) and charged by the simulator.
    @Test func theCostTheClientComputesIsWhatTheSimulatorCharged() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("meetup", id: "m4", capacity: 10)
            for quantity in [1, 2, 1, 3, 1] { _ = try await sim.sold("meetup", "m4", quantity: quantity) }
            let client = sim.meetup()
            var costs: [Int] = []
            var cursor: String?
            repeat {
                let page = try await client.rsvps(eventID: "m4", after: cursor, first: 2)
                costs.append(page.cost)
                cursor = page.hasNextPage ? page.endCursor : nil
            } while cursor != nil
            costs.append(try await client.editEvent(eventID: "m4", rsvpLimit: 12).cost)
            costs.append(try await client.closeEventRsvps(eventID: "m4").cost)
            costs.append(try await client.openEventRsvps(eventID: "m4").cost)
            costs.append(try await client.rsvps(eventID: "m4", first: 50, statuses: [.no]).cost)

            let charged = try await sim.requests("meetup").compactMap { $0["points"]?.intValue }
            #expect(costs == [3, 3, 2, 6, 6, 6, 1])
            #expect(charged == costs)
        }
    }

    /// The Meetup poller's incremental read: sorted by `updated` newest first, the first page starts
    /// with exactly the RSVPs that changed since the last poll.
    @Test func theFirstPageSortedByUpdatedHoldsTheChangedRsvpsFirst() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("meetup", id: "m5", capacity: 7)
            var ids: [String] = []
            for quantity in [1, 1, 1, 3, 1] { ids.append(try await sim.sold("meetup", "m5", quantity: quantity)) }
            ids.append(try await sim.sold("meetup", "m5", quantity: 2, waitlisted: true))
            let client = sim.meetup()
            let before = try await client.allRsvps(eventID: "m5", first: 3)
            #expect(before.map(\.id) == ids.reversed())
            let stamps = before.compactMap { $0.updated.flatMap(PlatformDate.parse) }
            #expect(stamps.count == 6 && zip(stamps, stamps.dropFirst()).allSatisfy { $0 > $1 })
            #expect(before.allSatisfy { $0.updated?.hasSuffix("Z") == true && $0.updated?.count == 24 })

            // Changes: a cancellation (status), guests up and down, and the promotion the last one causes.
            try await sim.cancel("meetup", ids[1])
            func guests(_ id: String, _ count: Int) async throws -> (status: Int, json: JSON) {
                try await sim.control("POST", "/control/meetup/guests", ["rsvp_id": .string(id), "guests_count": .int(count)])
            }
            #expect(try await guests(ids[2], 1).status == 200)
            #expect(try await guests(ids[2], 5).status == 409)
            let fewer = try await guests(ids[3], 0)
            #expect(fewer.status == 200 && fewer.json["promoted"] == [.string(ids[5])])

            let page = try await client.rsvps(eventID: "m5", first: 5)
            let changed = [ids[5], ids[3], ids[2], ids[1]]
            #expect(Array(page.rsvps.map(\.id).prefix(4)) == changed)
            let previous = Dictionary(uniqueKeysWithValues: before.map { ($0.id, $0.updated) })
            #expect(page.rsvps.prefix(4).allSatisfy { previous[$0.id] != $0.updated })
            #expect(page.rsvps.dropFirst(4).allSatisfy { previous[$0.id] == $0.updated })
            let byID = Dictionary(uniqueKeysWithValues: page.rsvps.map { ($0.id, $0) })
            #expect(byID[ids[1]]?.status == .no && byID[ids[5]]?.status == .yes && byID[ids[2]]?.guestsCount == 1)
        }
    }
}
