import PlatformClients
import TrafficPoliceCore

/// Publishes an event's capacity on one platform (DESIGN 3 "Publishing"), through the gateway's
/// throttled clients: Eventbrite's linked ticket class `capacity` (else the capacity tier's
/// `capacity_total`), Luma's `max_capacity`, Meetup's `rsvpLimit` with `closeEventRsvps` to close.
/// A published capacity is the platform's total, sold included. Never publishes a Meetup 0 (no limit).
public struct CapacityPublisher: Sendable {
    public let gateway: PlatformGateway
    public let lane: Lane

    public init(gateway: PlatformGateway, lane: Lane = .capacityPush) {
        self.gateway = gateway
        self.lane = lane
    }

    /// Publishes `capacity` (≥ 1) as the listing's total; reopens a closed Meetup listing when needed.
    /// Below 1 it closes the listing instead.
    public func publish(_ capacity: Int, on listing: ListingReference) async throws {
        guard capacity >= 1 else { return try await close(listing, sold: 0) }
        try await calling(listing) {
            switch listing.platform {
            case .eventbrite: try await setEventbrite(capacity, listing)
            case .luma: try await luma().updateEvent(id: listing.platformEventID, maxCapacity: capacity)
            case .meetup:
                let client = try meetup()
                _ = try await client.editEvent(eventID: listing.platformEventID, rsvpLimit: capacity)
                if try await meetupSummary(client, listing).event.rsvpSettings?.rsvpsClosed == true {
                    _ = try await client.openEventRsvps(eventID: listing.platformEventID)
                }
            }
        }
    }

    /// Closes the listing for sale: capacity = `sold` (Meetup: `closeEventRsvps`; with 0 sold
    /// Eventbrite and Luma take a capacity of 0, which sells nothing there).
    public func close(_ listing: ListingReference, sold: Int) async throws {
        let capacity = max(0, sold)
        try await calling(listing) {
            switch listing.platform {
            case .eventbrite: try await setEventbrite(capacity, listing)
            case .luma: try await luma().updateEvent(id: listing.platformEventID, maxCapacity: capacity)
            case .meetup: _ = try await meetup().closeEventRsvps(eventID: listing.platformEventID)
            }
        }
    }

    /// Reads the listing's capacity back (Eventbrite reads may lag a write: see `confirm`).
    public func read(_ listing: ListingReference) async throws -> PlatformCapacity {
        try await calling(listing) {
            switch listing.platform {
            case .eventbrite: try await readEventbrite(listing)
            case .luma: try await readLuma(listing)
            case .meetup: try await readMeetup(listing)
            }
        }
    }

    /// Reads back until the platform shows at most `capacity` (or closed), `attempts` times `interval`
    /// apart; true when confirmed. Luma reports no capacity but applies a write before answering it,
    /// so a Luma read that succeeds confirms.
    public func confirm(
        atMost capacity: Int, on listing: ListingReference, attempts: Int = 10, interval: Duration = .milliseconds(250)
    ) async throws -> Bool {
        for attempt in 0..<max(1, attempts) {
            if attempt > 0 { try await Task.sleep(for: interval) }
            let shown = try await readCapacity(listing)
            if shown.closed || !shown.capacityKnown { return true }
            if let published = shown.capacity, published <= capacity { return true }
        }
        return false
    }

    /// Reads the listing's capacity with the fewest calls (one per platform): what ``confirm(atMost:on:attempts:interval:)``
    /// and the rebalancer's first look use. `sold` is given only where that call carries it
    /// (Eventbrite); Luma's capacity is unknown (`capacityKnown` false), Meetup's is its RSVP limit and whether RSVPs are closed.
    public func readCapacity(_ listing: ListingReference) async throws -> PlatformCapacity {
        try await calling(listing) {
            switch listing.platform {
            case .eventbrite:
                return try await readEventbrite(listing)
            case .luma:
                let event = try await luma().event(id: listing.platformEventID)
                return PlatformCapacity(
                    capacity: event.maxCapacity, sold: nil, closed: false, capacityKnown: event.reportsMaxCapacity)
            case .meetup:
                let event = try await meetupSummary(try meetup(), listing).event
                return PlatformCapacity(
                    capacity: event.maxTickets.flatMap { $0 > 0 ? $0 : nil }, sold: nil,
                    closed: event.rsvpSettings?.rsvpsClosed == true)
            }
        }
    }

    /// Moves an overbooked order to the platform's waitlist where it can (Luma: the guest's status
    /// `waitlist`); false on Eventbrite and Meetup, which cannot.
    public func moveToWaitlist(orderID: String, on listing: ListingReference) async throws -> Bool {
        guard listing.platform == .luma else { return false }
        try await calling(listing) {
            try await luma().updateGuestStatus(eventID: listing.platformEventID, guestID: orderID, status: .waitlist)
        }
        return true
    }

    // MARK: Platforms

    private func setEventbrite(_ capacity: Int, _ listing: ListingReference) async throws {
        let client = try eventbrite()
        do {
            if let ticketClassID = listing.ticketClassID {
                _ = try await client.updateTicketClassCapacity(
                    eventID: listing.platformEventID, ticketClassID: ticketClassID, capacity: capacity)
            } else {
                _ = try await client.updateCapacityTier(eventID: listing.platformEventID, capacityTotal: capacity)
            }
        } catch let error as PlatformCallError {
            guard case .tooSmall(_, let detail) = CapacityPublishError.classify(error, platform: .eventbrite) else {
                throw error
            }
            // Eventbrite's error carries no count: ask for it (best effort).
            let sold = try? await readEventbrite(listing).sold
            throw CapacityPublishError.tooSmall(sold: sold, detail: detail)
        }
    }

    private func readEventbrite(_ listing: ListingReference) async throws -> PlatformCapacity {
        let client = try eventbrite()
        if let ticketClassID = listing.ticketClassID {
            let ticketClass = try await client.ticketClass(eventID: listing.platformEventID, ticketClassID: ticketClassID)
            // A class without its own capacity is limited by the event's tier.
            var capacity = ticketClass.capacity
            if capacity == nil { capacity = try await client.capacityTier(eventID: listing.platformEventID).capacityTotal }
            return PlatformCapacity(
                capacity: capacity, sold: ticketClass.quantitySold,
                closed: ticketClass.onSaleStatus == "SOLD_OUT" || Self.full(capacity, ticketClass.quantitySold))
        }
        let tier = try await client.capacityTier(eventID: listing.platformEventID)
        let sold = tier.capacitySold ?? tier.quantitySold
        return PlatformCapacity(capacity: tier.capacityTotal, sold: sold, closed: Self.full(tier.capacityTotal, sold))
    }

    private func readLuma(_ listing: ListingReference) async throws -> PlatformCapacity {
        let client = try luma()
        let event = try await client.event(id: listing.platformEventID)
        let approved = try await client.allGuests(eventID: listing.platformEventID, approvalStatus: .approved, limit: 100)
        let sold = approved.reduce(0) { $0 + $1.quantity }
        guard event.reportsMaxCapacity else {
            return PlatformCapacity(capacity: nil, sold: sold, closed: false, capacityKnown: false)
        }
        return PlatformCapacity(capacity: event.maxCapacity, sold: sold, closed: Self.full(event.maxCapacity, sold))
    }

    private func readMeetup(_ listing: ListingReference) async throws -> PlatformCapacity {
        let client = try meetup()
        // Pages of 50 (51 points each: within the capacity lane's burst), at most `maximumMeetupPages`.
        var page = try await client.rsvps(eventID: listing.platformEventID, first: 50, statuses: [.yes])
        let event = page.event
        var sold = page.rsvps.reduce(0) { $0 + $1.quantity }
        var pages = 1
        while page.hasNextPage {
            pages += 1
            guard pages <= Self.maximumMeetupPages else {
                throw CapacityPublishError.refused(
                    detail: "more than \(Self.maximumMeetupPages * 50) YES RSVPs: too many points to count them here")
            }
            guard let cursor = page.endCursor, !cursor.isEmpty else {
                throw PlatformCallError.malformedResponse(field: "pageInfo.endCursor", why: "missing")
            }
            page = try await client.rsvps(eventID: listing.platformEventID, after: cursor, first: 50, statuses: [.yes])
            sold += page.rsvps.reduce(0) { $0 + $1.quantity }
        }
        // `maxTickets` 0 is no limit.
        let limit = event.maxTickets.flatMap { $0 > 0 ? $0 : nil }
        return PlatformCapacity(
            capacity: limit, sold: sold, closed: event.rsvpSettings?.rsvpsClosed == true || Self.full(limit, sold))
    }

    /// The most pages of YES RSVPs ``read(_:)`` counts on Meetup (8 × 51 points).
    static let maximumMeetupPages = 8

    /// The event's settings (one RSVP asked for).
    private func meetupSummary(_ client: MeetupClient, _ listing: ListingReference) async throws -> MeetupRsvpPage {
        try await client.rsvps(eventID: listing.platformEventID, first: 1, statuses: [.yes])
    }

    private static func full(_ capacity: Int?, _ sold: Int?) -> Bool {
        guard let capacity, let sold else { return false }
        return sold >= capacity
    }

    // MARK: Clients and errors

    private func eventbrite() throws -> EventbriteClient {
        guard let client = gateway.eventbrite(lane) else { throw CapacityPublishError.notConfigured(.eventbrite) }
        return client
    }

    private func luma() throws -> LumaClient {
        guard let client = gateway.luma(lane) else { throw CapacityPublishError.notConfigured(.luma) }
        return client
    }

    private func meetup() throws -> MeetupClient {
        guard let client = gateway.meetup(lane) else { throw CapacityPublishError.notConfigured(.meetup) }
        return client
    }

    /// Runs `body`, turning a platform call error into a `CapacityPublishError`.
    private func calling<T>(_ listing: ListingReference, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PlatformCallError {
            throw CapacityPublishError.classify(error, platform: listing.platform)
        }
    }
}
