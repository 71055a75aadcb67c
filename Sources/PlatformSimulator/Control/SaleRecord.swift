/// One sale a platform made (the truth tests compare the daemon's ledger with). Its status and the
/// tickets it holds are read from the platform's store, so refunds, declines and waitlist
/// promotions made through any path show up.
public struct SaleRecord: Sendable {
    public var id: String
    public var platform: Platform
    public var eventID: String
    /// Tickets asked for.
    public var quantity: Int
    public var time: Double
    /// Eventbrite order id, Luma guest id or Meetup RSVP id.
    public var platformID: String

    /// `active`, `waitlist` or `cancelled`, and the tickets held now.
    func state(in world: SimulatorState) -> (status: String, held: Int) {
        switch platform {
        case .eventbrite:
            let held = world.eventbrite.orders[platformID]?.attendeeIDs.filter {
                world.eventbrite.attendees[$0]?.attending ?? false
            }.count ?? 0
            return (held > 0 ? "active" : "cancelled", held)
        case .luma:
            guard let guest = world.luma.guests[platformID] else { return ("cancelled", 0) }
            switch guest.approvalStatus {
            case "approved": return ("active", guest.ticketIDs.count)
            case "waitlist": return ("waitlist", 0)
            default: return ("cancelled", 0)
            }
        case .meetup:
            guard let rsvp = world.meetup.rsvps[platformID] else { return ("cancelled", 0) }
            switch rsvp.status {
            case "YES": return ("active", rsvp.held)
            case "WAITLIST": return ("waitlist", 0)
            default: return ("cancelled", 0)
            }
        }
    }

    func json(in world: SimulatorState) -> JSON {
        let (status, held) = state(in: world)
        var fields: [String: JSON] = [
            "id": .string(id), "platform": .string(platform.rawValue), "event_id": .string(eventID),
            "quantity": .int(quantity), "tickets_held": .int(held), "status": .string(status),
            "time": .string(Timestamps.milliseconds(time)),
        ]
        switch platform {
        case .eventbrite:
            fields["eventbrite"] = [
                "order_id": .string(platformID),
                "attendee_ids": .array((world.eventbrite.orders[platformID]?.attendeeIDs ?? []).map(JSON.string)),
            ]
        case .luma:
            let guest = world.luma.guests[platformID]
            fields["luma"] = [
                "guest_id": .string(platformID), "approval_status": .optional(guest?.approvalStatus),
                "ticket_ids": .array((guest?.ticketIDs ?? []).map(JSON.string)),
            ]
        case .meetup:
            let rsvp = world.meetup.rsvps[platformID]
            fields["meetup"] = [
                "rsvp_id": .string(platformID), "rsvp_status": .optional(rsvp?.status),
                "guests_count": .int(rsvp?.guestsCount ?? 0),
            ]
        }
        return .object(fields)
    }
}

/// One API request as `GET /control/requests` reports it.
public struct RequestRecord: Sendable {
    public var time: Double
    public var platform: Platform?
    public var method: String
    public var path: String
    public var status: Int
    public var token: String?
    /// Meetup points charged.
    public var points: Int?
    public var rateLimited: Bool

    var json: JSON {
        [
            "time": .string(Timestamps.milliseconds(time)), "platform": .optional(platform?.rawValue),
            "method": .string(method), "path": .string(path), "status": .int(status), "token": .optional(token),
            "points": .optional(points), "rate_limited": .bool(rateLimited),
        ]
    }
}
