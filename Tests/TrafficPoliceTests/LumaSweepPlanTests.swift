import Foundation
import Testing
import TrafficPolice
import TrafficPoliceCore

@Suite struct LumaSweepPlanTests {
    typealias Guest = LumaSweepPlan.Guest

    static func guest(_ id: String, _ status: String, tickets: Int = 1) -> Guest {
        Guest(id: id, approvalStatus: status, ticketIDs: (0..<tickets).map { "tkt-\(id)-\($0)" })
    }

    static func order(
        _ id: String, quantity: Int, outcome: ReservationOutcome = .accepted, released: Bool = false
    ) -> OrderRecord {
        OrderRecord(channel: .platform(.luma), orderID: id, quantity: quantity, outcome: outcome, released: released)
    }

    static func reasons(_ plan: LumaSweepPlan) -> [String: LumaSweepPlan.Correction.Reason] {
        Dictionary(uniqueKeysWithValues: plan.corrections.map { ($0.guest.id, $0.reason) })
    }

    @Test func approvedGuests() {
        let plan = LumaSweepPlan(
            guests: [
                Self.guest("missing", "approved", tickets: 3), Self.guest("same", "approved", tickets: 2),
                Self.guest("more", "approved", tickets: 4), Self.guest("released", "approved", tickets: 1),
                Self.guest("tombstone", "approved", tickets: 2), Self.guest("overbooked", "approved", tickets: 2),
                Self.guest("absorbed", "approved", tickets: 2), Self.guest("noTickets", "approved", tickets: 0),
            ],
            orders: [
                Self.order("same", quantity: 2), Self.order("more", quantity: 1),
                Self.order("released", quantity: 1, released: true),
                Self.order("tombstone", quantity: 0, outcome: .overbooked, released: true),
                Self.order("overbooked", quantity: 2, outcome: .overbooked),
                Self.order("absorbed", quantity: 2, outcome: .absorbed), Self.order("noTickets", quantity: 1),
            ],
            complete: true)
        // A changed ticket count and a released guest approved again are amendments now.
        #expect(
            Self.reasons(plan) == [
                "missing": .missingOrder, "more": .quantityChanged, "released": .reapproved, "tombstone": .reapproved,
            ])
        #expect(plan.corrections.first?.guest.quantity == 3)
        #expect(plan.drifts.isEmpty)
        #expect(plan.guestsCompared == 8)
    }

    @Test func anIncreaseRefusedForWhatLumaStillAsksIsNotQueuedAgain() {
        let plan = LumaSweepPlan(
            guests: [Self.guest("refused", "approved", tickets: 5), Self.guest("lowered", "approved", tickets: 1)],
            orders: [
                OrderRecord(channel: .platform(.luma), orderID: "refused", quantity: 2, outcome: .accepted, target: 5),
                OrderRecord(channel: .platform(.luma), orderID: "lowered", quantity: 2, outcome: .accepted, target: 5),
            ],
            complete: true)
        #expect(Self.reasons(plan) == ["lowered": .quantityChanged])
    }

    @Test func declinedGuestsAreReleasedUnlessAlreadyReleased() {
        let plan = LumaSweepPlan(
            guests: [
                Self.guest("held", "declined", tickets: 0), Self.guest("never", "declined", tickets: 0),
                Self.guest("gone", "declined", tickets: 0), Self.guest("overbooked", "declined", tickets: 0),
            ],
            orders: [
                Self.order("held", quantity: 2), Self.order("gone", quantity: 2, released: true),
                Self.order("overbooked", quantity: 1, outcome: .overbooked),
            ],
            complete: true)
        // A never-seen declined guest gets a tombstone, so that a late `guest.registered` reserves nothing.
        #expect(Self.reasons(plan) == ["held": .declined, "never": .declined, "overbooked": .declined])
        #expect(plan.drifts.isEmpty)
    }

    @Test func waitlistedPendingAndInvitedGuestsHoldNothing() {
        let plan = LumaSweepPlan(
            guests: [
                Self.guest("w-held", "waitlist", tickets: 0), Self.guest("w-none", "waitlist", tickets: 0),
                Self.guest("p-held", "pending_approval", tickets: 0), Self.guest("i-held", "invited", tickets: 0),
                Self.guest("w-released", "waitlist", tickets: 0), Self.guest("w-overbooked", "waitlist", tickets: 0),
            ],
            orders: [
                Self.order("w-held", quantity: 2), Self.order("p-held", quantity: 1), Self.order("i-held", quantity: 1),
                Self.order("w-released", quantity: 1, released: true),
                Self.order("w-overbooked", quantity: 1, outcome: .overbooked),
            ],
            complete: true)
        #expect(Self.reasons(plan) == ["w-held": .holdsNothing, "p-held": .holdsNothing, "i-held": .holdsNothing])
        #expect(plan.drifts.isEmpty)
    }

    @Test func unknownStatusesAndOrdersLumaDidNotListAreDrift() {
        let orders = [
            Self.order("gone", quantity: 2), Self.order("gone-released", quantity: 2, released: true),
            OrderRecord(channel: .platform(.eventbrite), orderID: "eb-1", quantity: 1, outcome: .accepted),
            OrderRecord(channel: .boxOffice, orderID: "sale-1", quantity: 1, outcome: .accepted),
        ]
        let guests = [Self.guest("s", "session")]
        let complete = LumaSweepPlan(guests: guests, orders: orders, complete: true)
        #expect(complete.corrections.isEmpty)
        #expect(
            complete.drifts == [.unknownStatus(guestID: "s", status: "session"), .unknownToLuma(guestID: "gone", held: 2)])
        // After a partial read an unlisted guest may be on a page not read: not judged.
        let partial = LumaSweepPlan(guests: guests, orders: orders, complete: false)
        #expect(partial.drifts == [.unknownStatus(guestID: "s", status: "session")])
    }

    @Test func otherChannelsWithTheSameIdAreIgnored() {
        let plan = LumaSweepPlan(
            guests: [Self.guest("x", "approved")],
            orders: [OrderRecord(channel: .platform(.meetup), orderID: "x", quantity: 1, outcome: .accepted)],
            complete: true)
        #expect(Self.reasons(plan) == ["x": .missingOrder])
    }

    @Test func aGuestListedTwiceCountsOnceWithItsLastState() {
        let plan = LumaSweepPlan(
            guests: [Self.guest("a", "approved", tickets: 2), Self.guest("b", "approved"), Self.guest("a", "declined", tickets: 0)],
            orders: [], complete: true)
        #expect(plan.guestsCompared == 2)
        #expect(plan.corrections.map(\.guest.id) == ["a", "b"])
        #expect(Self.reasons(plan) == ["a": .declined, "b": .missingOrder])
    }

    @Test func nothingToDoWhenInStep() {
        let plan = LumaSweepPlan(
            guests: [Self.guest("a", "approved", tickets: 2), Self.guest("b", "declined", tickets: 0), Self.guest("c", "waitlist")],
            orders: [Self.order("a", quantity: 2), Self.order("b", quantity: 1, released: true)], complete: true)
        #expect(plan.corrections.isEmpty && plan.drifts.isEmpty)
    }

    @Test func theJobIsAGuestUpdatedWebhookTheWorkersParse() throws {
        let approved = LumaSweepPlan.Correction(guest: Self.guest("gst-1", "approved", tickets: 3), reason: .missingOrder)
        let delivery = approved.delivery(lumaEventID: "evt-9", receivedAtMilliseconds: 1234)
        #expect(delivery.platform == .luma && delivery.kind == "guest.updated" && delivery.receivedAtMilliseconds == 1234)
        #expect(delivery.dedupeKey == "luma-sweep:gst-1:approved:3")
        let parsed = try #require(try LumaGuestDelivery.parse(delivery.body, kind: delivery.kind))
        #expect(parsed.type == "guest.updated" && parsed.guestID == "gst-1" && parsed.lumaEventID == "evt-9")
        #expect(parsed.intent == .reserve(quantity: 3))

        let declined = LumaSweepPlan.Correction(guest: Self.guest("gst-2", "declined", tickets: 0), reason: .declined)
        #expect(declined.dedupeKey == "luma-sweep:gst-2:declined:0")
        #expect(try LumaGuestDelivery.parse(declined.delivery(lumaEventID: "e", receivedAtMilliseconds: 0).body, kind: "")?.intent == .release)

        let waitlisted = LumaSweepPlan.Correction(guest: Self.guest("gst-3", "waitlist", tickets: 0), reason: .holdsNothing)
        #expect(
            try LumaGuestDelivery.parse(waitlisted.delivery(lumaEventID: "e", receivedAtMilliseconds: 0).body, kind: "")?.intent
                == .holdNothing(status: "waitlist"))
        // Another state of the same guest is another job.
        #expect(Set([approved.dedupeKey, declined.dedupeKey, waitlisted.dedupeKey]).count == 3)
    }
}
