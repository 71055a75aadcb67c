/// The Luma endpoints the simulator serves (platforms.md section 2), under `/luma`.
/// Authentication and the rate limit are checked before (`SimulatorState`).
struct LumaAPI {
    /// The most `pagination_limit` may ask for.
    var maxPageSize: Int
    var defaultPageSize = 50

    struct Outcome {
        var response: SimResponse
        var change: CapacityChange?
        /// A guest whose status an API call changed (→ `guest.updated`).
        var updatedGuest: String?
    }

    func handle(_ request: SimRequest, subpath: String, store: inout LumaStore, now: Double) -> Outcome {
        let routes: [String: String] = [
            "/v1/events/get": "GET", "/v1/events/update": "POST", "/v1/events/guests/list": "GET",
            "/v1/events/guests/get": "GET", "/v1/events/ticket-types/list": "GET",
            "/v1/events/ticket-types/get": "GET", "/v1/events/ticket-types/update": "POST",
            "/v1/events/guests/update-status": "POST",
        ]
        guard let method = routes[subpath] else { return Outcome(response: LumaError(404, "Not found").response) }
        guard method == request.method else {
            return Outcome(response: LumaError(405, "Method \(request.method) not allowed, use \(method)").response)
        }
        let result: Result<Outcome, LumaError>
        switch subpath {
        case "/v1/events/get": result = event(request, store: store).map { Outcome(response: .json(200, $0)) }
        case "/v1/events/update": result = update(request, store: &store, now: now)
        case "/v1/events/guests/list": result = guests(request, store: store).map { Outcome(response: .json(200, $0)) }
        case "/v1/events/guests/get": result = guest(request, store: store).map { Outcome(response: .json(200, $0)) }
        case "/v1/events/ticket-types/list":
            result = event(request, store: store, render: { ["entries": [LumaRendering.ticketType($0)]] }).map {
                Outcome(response: .json(200, $0))
            }
        case "/v1/events/ticket-types/get": result = ticketType(request, store: store)
        case "/v1/events/ticket-types/update": result = updateTicketType(request, store: &store, now: now)
        default: result = updateStatus(request, store: &store, now: now)
        }
        switch result {
        case .success(let outcome): return outcome
        case .failure(let error): return Outcome(response: error.response)
        }
    }

    private func requiredEvent(_ id: String?, store: LumaStore) -> Result<LumaStore.Event, LumaError> {
        guard let id, !id.isEmpty else { return .failure(LumaError(400, "event_id is required")) }
        guard let event = store.events[id] else { return .failure(LumaError(404, "Event not found")) }
        return .success(event)
    }

    private func event(
        _ request: SimRequest, store: LumaStore, render: (LumaStore.Event) -> JSON = LumaRendering.event
    ) -> Result<JSON, LumaError> {
        requiredEvent(request.query["event_id"], store: store).map(render)
    }

    private func body(_ request: SimRequest) -> Result<[String: JSON], LumaError> {
        guard let object = request.json?.objectValue else {
            return .failure(LumaError(400, "Request body must be a JSON object"))
        }
        return .success(object)
    }

    /// `max_capacity` from a body: absent → `.none`, null → `.some(nil)`, an integer ≥ 0 → `.some(n)`.
    private func maxCapacity(_ body: [String: JSON]) -> Result<Int??, LumaError> {
        guard let value = body["max_capacity"] else { return .success(.none) }
        if value.isNull { return .success(.some(nil)) }
        guard let number = value.intValue, number >= 0 else {
            return .failure(LumaError(400, "max_capacity must be a non-negative integer or null"))
        }
        return .success(.some(number))
    }

    private func update(_ request: SimRequest, store: inout LumaStore, now: Double) -> Result<Outcome, LumaError> {
        body(request).flatMap { body in
            requiredEvent(body["event_id"]?.stringValue, store: store).flatMap { event in
                maxCapacity(body).map { requested in
                    guard let capacity = requested else { return Outcome(response: .json(200, [:])) }
                    let old = store.setMaxCapacity(eventID: event.id, capacity) ?? nil
                    let change = CapacityChange(
                        platform: .luma, eventID: event.id, old: old, new: capacity, time: now,
                        call: "POST /v1/events/update", sold: store.approvedTickets(event.id))
                    return Outcome(response: .json(200, [:]), change: change)
                }
            }
        }
    }

    private func guests(_ request: SimRequest, store: LumaStore) -> Result<JSON, LumaError> {
        requiredEvent(request.query["event_id"], store: store).flatMap { event in
            var list = event.guestIDs.compactMap { store.guests[$0] }
            if let status = request.query["approval_status"] {
                guard ["approved", "session", "pending_approval", "invited", "declined", "waitlist"].contains(status)
                else { return .failure(LumaError(400, "Invalid approval_status")) }
                list = list.filter { $0.approvalStatus == status }
            }
            switch request.query["sort_column"] {
            case nil, "created_at", "registered_at", "checked_in_at": break
            case "name": list.sort { $0.buyer.name < $1.buyer.name }
            case "email": list.sort { $0.buyer.email < $1.buyer.email }
            default: return .failure(LumaError(400, "Invalid sort_column"))
            }
            switch request.query["sort_direction"] {
            case nil, "asc", "asc nulls last": break
            case "desc", "desc nulls last": list.reverse()
            default: return .failure(LumaError(400, "Invalid sort_direction"))
            }
            var limit = defaultPageSize
            if let text = request.query["pagination_limit"] {
                guard let number = Double(text), number >= 1 else {
                    return .failure(LumaError(400, "pagination_limit must be a positive number"))
                }
                limit = min(Int(number), maxPageSize)
            }
            var offset = 0
            if let cursor = request.query["pagination_cursor"], !cursor.isEmpty {
                guard let decoded = OffsetCursor.decode(cursor, prefix: "luma:") else {
                    return .failure(LumaError(400, "Invalid pagination_cursor"))
                }
                offset = decoded
            }
            let page = Page(list, offset: offset, size: limit)
            var fields: [String: JSON] = [
                "entries": .array(page.items.map { LumaRendering.guest($0, event: event, withOrders: false) }),
                "has_more": .bool(page.nextOffset != nil),
            ]
            if let next = page.nextOffset { fields["next_cursor"] = .string(OffsetCursor.encode(next, prefix: "luma:")) }
            return .success(.object(fields))
        }
    }

    private func guest(_ request: SimRequest, store: LumaStore) -> Result<JSON, LumaError> {
        requiredEvent(request.query["event_id"], store: store).flatMap { event in
            guard let key = request.query["id"], !key.isEmpty else { return .failure(LumaError(400, "id is required")) }
            guard let guest = store.findGuest(eventID: event.id, key: key) else {
                return .failure(LumaError(404, "Guest not found"))
            }
            return .success(LumaRendering.guest(guest, event: event, withOrders: true))
        }
    }

    private func ticketType(_ request: SimRequest, store: LumaStore) -> Result<Outcome, LumaError> {
        guard let id = request.query["event_ticket_type_id"], !id.isEmpty else {
            return .failure(LumaError(400, "event_ticket_type_id is required"))
        }
        guard let event = store.events.values.first(where: { $0.ticketTypeID == id }) else {
            return .failure(LumaError(404, "Ticket type not found"))
        }
        return .success(Outcome(response: .json(200, LumaRendering.ticketType(event))))
    }

    private func updateTicketType(_ request: SimRequest, store: inout LumaStore, now: Double) -> Result<Outcome, LumaError> {
        body(request).flatMap { body in
            guard let id = body["event_ticket_type_id"]?.stringValue else {
                return .failure(LumaError(400, "event_ticket_type_id is required"))
            }
            guard store.events.values.contains(where: { $0.ticketTypeID == id }) else {
                return .failure(LumaError(404, "Ticket type not found"))
            }
            return maxCapacity(body).flatMap { requested in
                var change: CapacityChange?
                if let capacity = requested, let (eventID, old) = store.setTicketTypeCapacity(typeID: id, capacity) {
                    change = CapacityChange(
                        platform: .luma, eventID: eventID, old: old, new: capacity, time: now,
                        call: "POST /v1/events/ticket-types/update", sold: store.approvedTickets(eventID))
                }
                guard let event = store.events.values.first(where: { $0.ticketTypeID == id }) else {
                    return .failure(LumaError(404, "Ticket type not found"))
                }
                return .success(Outcome(response: .json(200, LumaRendering.ticketType(event)), change: change))
            }
        }
    }

    private func updateStatus(_ request: SimRequest, store: inout LumaStore, now: Double) -> Result<Outcome, LumaError> {
        body(request).flatMap { body in
            requiredEvent(body["event_id"]?.stringValue, store: store).flatMap { event in
                guard let key = body["guest_id"]?.stringValue, let status = body["status"]?.stringValue else {
                    return .failure(LumaError(400, "guest_id and status are required"))
                }
                guard let guest = store.findGuest(eventID: event.id, key: key) else {
                    return .failure(LumaError(404, "Guest not found"))
                }
                return store.updateStatus(guestID: guest.id, status: status, now: now).map { updated in
                    Outcome(response: .json(200, [:]), updatedGuest: updated.id)
                }
            }
        }
    }
}
