import Foundation
import PlatformClients
import PlatformSimulator
import Testing

@Suite("LumaClient against the simulator", .timeLimit(.minutes(1)))
struct LumaIntegrationTests {
    @Test func eventMaxCapacityThenASaleBeyondItIsWaitlisted() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("luma", id: "evt-1", capacity: nil)
            let client = sim.luma()
            let event = try await client.event(id: "evt-1")
            #expect(event.id == "evt-1" && event.waitlistStatus == "enabled" && event.startAt != nil)

            _ = try await sim.sold("luma", "evt-1", quantity: 2)
            try await client.updateEvent(id: "evt-1", maxCapacity: 3)
            _ = try await sim.sold("luma", "evt-1", quantity: 1)
            let waiting = try await sim.sold("luma", "evt-1", quantity: 1, waitlisted: true)
            let guest = try await client.guest(eventID: "evt-1", id: waiting)
            #expect(guest.approvalStatus == .waitlist && guest.quantity == 0 && !guest.holdsTickets)

            try await client.updateEvent(id: "evt-1", maxCapacity: nil)
            _ = try await sim.sold("luma", "evt-1", quantity: 5)
            let changes = try await sim.control("GET", "/control/capacity-changes").json["capacity_changes"]?.arrayValue
            #expect(changes?.map { $0["new"] ?? .null } == [3, .null])

            let missing = await callError { try await client.event(id: "evt-none") }
            guard case .permanent(404, nil, "Event not found")? = missing else {
                Issue.record("expected permanent 404, got \(String(describing: missing))")
                return
            }
        }
    }

    @Test func guestsPageWithTheCursorAndGuestTicketTypesAndStatusUpdates() async throws {
        try await SimulatorHarness.with { sim in
            let created = try await sim.createEvent("luma", id: "evt-2", capacity: 6)
            let client = sim.luma()
            var guestIDs: [String] = []
            for quantity in [1, 2, 1, 2] { guestIDs.append(try await sim.sold("luma", "evt-2", quantity: quantity)) }
            guestIDs.append(try await sim.sold("luma", "evt-2", quantity: 1, waitlisted: true))

            let first = try await client.guests(eventID: "evt-2", limit: 2)
            #expect(first.entries.map(\.id) == Array(guestIDs.prefix(2)) && first.hasMore && first.nextCursor != nil)
            let second = try await client.guests(eventID: "evt-2", cursor: first.nextCursor, limit: 2)
            #expect(second.entries.map(\.id) == Array(guestIDs[2..<4]))
            let all = try await client.allGuests(eventID: "evt-2", limit: 2)
            #expect(all.map(\.id) == guestIDs)
            #expect(all.map(\.quantity) == [1, 2, 1, 2, 0])
            let waitlisted = try await client.allGuests(eventID: "evt-2", approvalStatus: .waitlist)
            #expect(waitlisted.map(\.id) == [guestIDs[4]])

            let guest = try await client.guest(eventID: "evt-2", id: guestIDs[1])
            #expect(guest.approvalStatus == .approved && guest.quantity == 2 && guest.holdsTickets)
            let ticketType = try #require(created["ticket_type_id"]?.stringValue)
            #expect(guest.eventTickets.allSatisfy { $0.eventTicketTypeID == ticketType })
            let byEmail = try await client.guest(eventID: "evt-2", id: try #require(guest.userEmail))
            #expect(byEmail.id == guest.id)

            let types = try await client.ticketTypes(eventID: "evt-2")
            #expect(types.map(\.id) == [ticketType] && types.first?.maxCapacity == nil && types.first?.type == "free")

            try await client.updateGuestStatus(eventID: "evt-2", guestID: guestIDs[1], status: .declined)
            let declined = try await client.guest(eventID: "evt-2", id: guestIDs[1])
            #expect(declined.approvalStatus == .declined && declined.quantity == 0)
            try await client.updateGuestStatus(eventID: "evt-2", guestID: guestIDs[0], status: .waitlist)
            #expect(try await client.guest(eventID: "evt-2", id: guestIDs[0]).approvalStatus == .waitlist)
            try await client.updateGuestStatus(eventID: "evt-2", guestID: guestIDs[4], status: .approved)
            let approved = try await client.guest(eventID: "evt-2", id: guestIDs[4])
            #expect(approved.approvalStatus == .approved && approved.quantity == 1)

            let filters: [LumaApprovalStatus] = [.approved, .session, .pendingApproval, .invited, .declined, .waitlist]
            for status in filters { _ = try await client.guests(eventID: "evt-2", approvalStatus: status) }
            for status in LumaCalls.GuestStatus.allCases {
                try await client.updateGuestStatus(eventID: "evt-2", guestID: guestIDs[3], status: status)
                #expect(try await client.guest(eventID: "evt-2", id: guestIDs[3]).approvalStatus.rawValue == status.rawValue)
            }

            let unknown = await callError {
                try await client.updateGuestStatus(eventID: "evt-2", guestID: "gst-none", status: .declined)
            }
            #expect(unknown == .permanent(status: 404, code: nil, message: "Guest not found"))
        }
    }

    @Test func aLoweredLimitGives429WithRetryAfterAndABlock() async throws {
        try await SimulatorHarness.with { sim in
            try await sim.createEvent("luma", id: "evt-3", capacity: nil)
            let refused = await callError { try await sim.luma(credential: "wrong").event(id: "evt-3") }
            guard case .unauthorized(401, "Invalid API key")? = refused else {
                Issue.record("expected unauthorized, got \(String(describing: refused))")
                return
            }

            try await sim.configure(["luma": ["requests_per_window": 2, "block_seconds": 60]])
            let client = sim.luma()
            _ = try await client.event(id: "evt-3")
            _ = try await client.event(id: "evt-3")
            let limited = await callError { try await client.event(id: "evt-3") }
            guard case .rateLimited(let retryAfter?, let resetAt?, _)? = limited else {
                Issue.record("expected rate limited with Retry-After and X-RateLimit-Reset, got \(String(describing: limited))")
                return
            }
            #expect(retryAfter == .seconds(60))
            #expect(abs(resetAt.timeIntervalSince(sim.now) - 60) < 3)
            #expect(limited?.retryAdvice(now: Date()) == .after(.seconds(60)))
            // Blocked: even a call that would be cheap is refused until the block ends.
            #expect(await callError { try await client.ticketTypes(eventID: "evt-3") } != nil)
            sim.advance(seconds: 61)
            #expect(try await client.event(id: "evt-3").id == "evt-3")
            let log = try await sim.control("GET", "/control/rate-limited?platform=luma").json["rate_limited"]?.arrayValue
            #expect(log?.count == 2)
        }
    }
}
