import Foundation

/// Eventbrite v3 (`Authorization: Bearer`): the thin async shell that sends `EventbriteCalls`.
///
/// Read-your-writes (`Eventbrite-API-Waypoint-Token`) is not used: callers that re-read right
/// after a write must allow for Eventbrite's eventual consistency (usually under 15 s).
public struct EventbriteClient: PlatformAPIClient {
    public let transport: PlatformTransport

    /// Creates a client over `transport` (whose endpoint's platform should be `.eventbrite`).
    public init(transport: PlatformTransport) { self.transport = transport }

    /// The order; with `expandAttendees` its `quantity` counts the attendees still holding tickets.
    public func order(id: String, expandAttendees: Bool = true) async throws -> EventbriteOrder {
        try await perform(EventbriteCalls.order(id: id, expandAttendees: expandAttendees))
    }

    /// One page of an event's orders, by id ascending. With `changedSince`, `lastItemSeen` (an order id)
    /// keeps only later orders; `expandAttendees` includes each order's attendees.
    public func eventOrders(
        eventID: String, status: EventbriteCalls.OrderStatus? = nil, changedSince: Date? = nil,
        continuation: String? = nil, lastItemSeen: String? = nil, expandAttendees: Bool = false
    ) async throws -> EventbritePage<EventbriteOrder> {
        try await perform(
            EventbriteCalls.eventOrders(
                eventID: eventID, status: status, changedSince: changedSince, continuation: continuation,
                lastItemSeen: lastItemSeen, expandAttendees: expandAttendees))
    }

    /// One page of an event's attendees.
    public func attendees(
        eventID: String, status: EventbriteCalls.AttendeeStatus? = nil, changedSince: Date? = nil,
        continuation: String? = nil
    ) async throws -> EventbritePage<EventbriteAttendee> {
        try await perform(
            EventbriteCalls.attendees(
                eventID: eventID, status: status, changedSince: changedSince, continuation: continuation))
    }

    /// Every order of the event (after `lastItemSeen` when `changedSince` is given), following
    /// `continuation` for at most `maxPages` pages.
    public func allEventOrders(
        eventID: String, status: EventbriteCalls.OrderStatus? = nil, changedSince: Date? = nil, maxPages: Int = 200,
        lastItemSeen: String? = nil, expandAttendees: Bool = false
    ) async throws -> [EventbriteOrder] {
        try await PageCollector.collect(maxPages: maxPages, cursorField: "pagination.continuation") { cursor in
            let page = try await eventOrders(
                eventID: eventID, status: status, changedSince: changedSince, continuation: cursor,
                lastItemSeen: lastItemSeen, expandAttendees: expandAttendees)
            return (page.items, try Self.next(page.pagination))
        }
    }

    /// Every attendee of the event, following `continuation` for at most `maxPages` pages.
    public func allAttendees(
        eventID: String, status: EventbriteCalls.AttendeeStatus? = nil, changedSince: Date? = nil,
        maxPages: Int = 200
    ) async throws -> [EventbriteAttendee] {
        try await PageCollector.collect(maxPages: maxPages, cursorField: "pagination.continuation") { cursor in
            let page = try await attendees(
                eventID: eventID, status: status, changedSince: changedSince, continuation: cursor)
            return (page.items, try Self.next(page.pagination))
        }
    }

    /// The ticket class.
    public func ticketClass(eventID: String, ticketClassID: String) async throws -> EventbriteTicketClass {
        try await perform(EventbriteCalls.ticketClass(eventID: eventID, ticketClassID: ticketClassID))
    }

    /// Sets the ticket class's `capacity`; returns the class as Eventbrite now has it.
    public func updateTicketClassCapacity(
        eventID: String, ticketClassID: String, capacity: Int
    ) async throws -> EventbriteTicketClass {
        try await perform(
            EventbriteCalls.updateTicketClassCapacity(eventID: eventID, ticketClassID: ticketClassID, capacity: capacity))
    }

    /// The event's capacity tier.
    public func capacityTier(eventID: String) async throws -> EventbriteCapacityTier {
        try await perform(EventbriteCalls.capacityTier(eventID: eventID))
    }

    /// Sets the event's `capacity_total`; returns the tier as Eventbrite now has it.
    public func updateCapacityTier(eventID: String, capacityTotal: Int) async throws -> EventbriteCapacityTier {
        try await perform(EventbriteCalls.updateCapacityTier(eventID: eventID, capacityTotal: capacityTotal))
    }

    /// The next continuation, or nil on the last page; a page that says there is more but gives
    /// no token is malformed.
    static func next(_ pagination: EventbritePagination) throws -> String? {
        guard pagination.hasMoreItems else { return nil }
        guard let token = pagination.continuation, !token.isEmpty else {
            throw PlatformCallError.malformedResponse(
                field: "pagination.continuation", why: "missing while has_more_items is true")
        }
        return token
    }
}
