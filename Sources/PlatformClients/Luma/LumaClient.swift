/// Luma's public API (`x-luma-api-key`): the thin async shell that sends `LumaCalls`.
public struct LumaClient: PlatformAPIClient {
    public let transport: PlatformTransport

    /// Creates a client over `transport` (whose endpoint's platform should be `.luma`).
    public init(transport: PlatformTransport) { self.transport = transport }

    /// The event.
    public func event(id: String) async throws -> LumaEvent {
        try await perform(LumaCalls.event(id: id))
    }

    /// Sets the event's `max_capacity` (nil removes the limit).
    public func updateEvent(id: String, maxCapacity: Int?) async throws {
        try await perform(LumaCalls.updateEvent(id: id, maxCapacity: maxCapacity))
    }

    /// One page of the event's guests.
    public func guests(
        eventID: String, approvalStatus: LumaApprovalStatus? = nil, cursor: String? = nil, limit: Int? = nil
    ) async throws -> LumaGuestPage {
        try await perform(LumaCalls.guests(eventID: eventID, approvalStatus: approvalStatus, cursor: cursor, limit: limit))
    }

    /// Every guest of the event, following `next_cursor` for at most `maxPages` pages.
    public func allGuests(
        eventID: String, approvalStatus: LumaApprovalStatus? = nil, limit: Int? = nil, maxPages: Int = 200
    ) async throws -> [LumaGuest] {
        try await PageCollector.collect(maxPages: maxPages, cursorField: "next_cursor") { cursor in
            let page = try await guests(eventID: eventID, approvalStatus: approvalStatus, cursor: cursor, limit: limit)
            guard page.hasMore else { return (page.entries, nil) }
            guard let next = page.nextCursor, !next.isEmpty else {
                throw PlatformCallError.malformedResponse(field: "next_cursor", why: "missing while has_more is true")
            }
            return (page.entries, next)
        }
    }

    /// One guest (by `gst-…`, ticket key, `g-…` or email).
    public func guest(eventID: String, id: String) async throws -> LumaGuest {
        try await perform(LumaCalls.guest(eventID: eventID, id: id))
    }

    /// The event's ticket types.
    public func ticketTypes(eventID: String, includeHidden: Bool = false) async throws -> [LumaTicketType] {
        try await perform(LumaCalls.ticketTypes(eventID: eventID, includeHidden: includeHidden))
    }

    /// Changes a guest's approval status (e.g. `declined` for an overbooked order).
    public func updateGuestStatus(eventID: String, guestID: String, status: LumaCalls.GuestStatus) async throws {
        try await perform(LumaCalls.updateGuestStatus(eventID: eventID, guestID: guestID, status: status))
    }
}
