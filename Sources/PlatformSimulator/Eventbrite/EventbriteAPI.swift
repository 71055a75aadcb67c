/// The Eventbrite v3 endpoints the simulator serves (platforms.md section 1), under `/eventbrite/v3`.
/// Authentication and the rate limit are checked before (`SimulatorState`).
struct EventbriteAPI {
    var pageSize: Int
    /// Read-after-write lag, seconds.
    var lag: Double
    /// `http://127.0.0.1:P/eventbrite/v3`, for `resource_uri`.
    var base: String

    typealias Outcome = (response: SimResponse, change: CapacityChange?)

    static func notFound(_ what: String = "path") -> SimResponse {
        switch what {
        case "event": EventbriteRendering.error(404, "NOT_FOUND", "The event you requested does not exist.")
        case "order": EventbriteRendering.error(404, "NOT_FOUND", "The order you requested does not exist.")
        default: EventbriteRendering.error(404, "NOT_FOUND", "The path you requested does not exist.")
        }
    }

    func handle(_ request: SimRequest, subpath: String, store: inout EventbriteStore, now: Double) -> Outcome {
        guard subpath.hasSuffix("/") else { return (Self.notFound(), nil) }
        let parts = subpath.split(separator: "/").map(String.init)
        let method = request.method
        func only(_ allowed: String..., run: () -> Outcome) -> Outcome {
            guard allowed.contains(method) else {
                return (
                    EventbriteRendering.error(405, "METHOD_NOT_ALLOWED", "Method \(method) is not allowed here."), nil
                )
            }
            return run()
        }
        switch parts.count {
        case 2 where parts[0] == "orders":
            return only("GET") { (order(parts[1], request: request, store: store, now: now), nil) }
        case 3 where parts[0] == "events" && parts[2] == "orders":
            return only("GET") { (orders(parts[1], request: request, store: store, now: now), nil) }
        case 3 where parts[0] == "events" && parts[2] == "attendees":
            return only("GET") { (attendees(parts[1], request: request, store: store, now: now), nil) }
        case 4 where parts[0] == "events" && parts[2] == "attendees":
            return only("GET") { (attendee(parts[1], parts[3], store: store, now: now), nil) }
        case 3 where parts[0] == "events" && parts[2] == "ticket_classes":
            return only("GET") {
                guard let event = store.events[parts[1]] else { return (Self.notFound("event"), nil) }
                let list = EventbriteRendering.ticketClass(event, store: store, base: base, now: now)
                let page = Page([list], offset: 0, size: pageSize)
                return (
                    .json(
                        200,
                        ["pagination": EventbriteRendering.pagination(page, offset: 0, size: pageSize),
                         "ticket_classes": [list]]), nil
                )
            }
        case 4 where parts[0] == "events" && parts[2] == "ticket_classes":
            return only("GET", "POST") { ticketClass(parts[1], parts[3], request: request, store: &store, now: now) }
        case 3 where parts[0] == "events" && parts[2] == "capacity_tier":
            return only("GET", "POST") { capacityTier(parts[1], request: request, store: &store, now: now) }
        default:
            return (Self.notFound(), nil)
        }
    }

    private func order(_ id: String, request: SimRequest, store: EventbriteStore, now: Double) -> SimResponse {
        guard let order = store.visibleOrder(id, now: now), store.events[order.eventID] != nil else {
            return Self.notFound("order")
        }
        return .json(200, EventbriteRendering.order(order, base: base, attendees: expandedAttendees(order, request, store)))
    }

    /// The order's attendees when the request asks for `expand=attendees` (among other expansions), else nil.
    private func expandedAttendees(_ order: EventbriteStore.Order, _ request: SimRequest, _ store: EventbriteStore) -> [JSON]? {
        guard (request.query["expand"] ?? "").split(separator: ",").contains("attendees"),
            let event = store.events[order.eventID]
        else { return nil }
        return order.attendeeIDs.compactMap { store.attendees[$0] }.map {
            EventbriteRendering.attendee($0, event: event, base: base)
        }
    }

    /// Reads `changed_since` and `continuation`; the error response when either is malformed.
    private func paging(_ request: SimRequest) -> Result<(changedSince: Double?, offset: Int), SimResponseError> {
        var changedSince: Double?
        if let text = request.query["changed_since"] {
            guard let time = Timestamps.parse(text) else {
                return .failure(
                    SimResponseError(
                        EventbriteRendering.error(
                            400, "ARGUMENTS_ERROR", "changed_since: enter a date in the form 2018-05-12T02:00:00Z.")))
            }
            changedSince = time
        }
        var offset = 0
        if let token = request.query["continuation"] {
            guard let decoded = OffsetCursor.decode(token, prefix: "eb:") else {
                return .failure(
                    SimResponseError(
                        EventbriteRendering.error(400, "BAD_CONTINUATION_TOKEN", "The continuation token is not valid.")))
            }
            offset = decoded
        }
        return .success((changedSince, offset))
    }

    private func orders(_ eventID: String, request: SimRequest, store: EventbriteStore, now: Double) -> SimResponse {
        guard store.events[eventID] != nil else { return Self.notFound("event") }
        let status = request.query["status"] ?? "all_not_deleted"
        guard ["active", "inactive", "both", "all_not_deleted"].contains(status) else {
            return EventbriteRendering.error(400, "ARGUMENTS_ERROR", "status: unknown value \(status).")
        }
        var lastItemSeen: Int?
        if let text = request.query["last_item_seen"], !text.isEmpty {
            guard let number = Int(text), number >= 0 else {
                return EventbriteRendering.error(400, "ARGUMENTS_ERROR", "last_item_seen: enter an order id.")
            }
            lastItemSeen = number
        }
        switch paging(request) {
        case .failure(let error): return error.response
        case .success(let paging):
            let all = store.orders(
                of: eventID, status: status, changedSince: paging.changedSince, lastItemSeen: lastItemSeen, now: now)
            let page = Page(all, offset: paging.offset, size: pageSize)
            let rendered = page.items.map { order in
                EventbriteRendering.order(order, base: base, attendees: expandedAttendees(order, request, store))
            }
            return .json(
                200,
                ["pagination": EventbriteRendering.pagination(page, offset: paging.offset, size: pageSize),
                 "orders": .array(rendered)])
        }
    }

    private func attendees(_ eventID: String, request: SimRequest, store: EventbriteStore, now: Double) -> SimResponse {
        guard let event = store.events[eventID] else { return Self.notFound("event") }
        let status: EventbriteStore.AttendeeStatus
        switch request.query["status"] {
        case nil, "": status = .all
        case "attending": status = .attending
        case "not_attending": status = .notAttending
        case "unpaid": status = .unpaid
        case let other?:
            return EventbriteRendering.error(
                400, "ARGUMENTS_ERROR", "status: unknown value \(other) (attending, not_attending, unpaid).")
        }
        switch paging(request) {
        case .failure(let error): return error.response
        case .success(let paging):
            let all = store.attendees(of: eventID, status: status, changedSince: paging.changedSince, now: now)
            let page = Page(all, offset: paging.offset, size: pageSize)
            return .json(
                200,
                ["pagination": EventbriteRendering.pagination(page, offset: paging.offset, size: pageSize),
                 "attendees": .array(page.items.map { EventbriteRendering.attendee($0, event: event, base: base) })])
        }
    }

    private func attendee(_ eventID: String, _ id: String, store: EventbriteStore, now: Double) -> SimResponse {
        guard let event = store.events[eventID], let attendee = store.attendees[id], attendee.eventID == eventID,
            attendee.visibleAt <= now
        else { return Self.notFound("path") }
        return .json(200, EventbriteRendering.attendee(attendee, event: event, base: base))
    }

    /// The integer (or null) at `body[wrapper][field]`, or the ARGUMENTS_ERROR response.
    private func capacityArgument(_ request: SimRequest, wrapper: String, field: String) -> Result<Int?, SimResponseError> {
        guard let body = request.json, let object = body[wrapper]?.objectValue, let value = object[field] else {
            return .failure(
                SimResponseError(
                    EventbriteRendering.error(
                        400, "ARGUMENTS_ERROR", "Expected a JSON body {\"\(wrapper)\": {\"\(field)\": N}}.")))
        }
        if value.isNull { return .success(nil) }
        guard let number = value.intValue else {
            return .failure(
                SimResponseError(
                    EventbriteRendering.error(400, "ARGUMENTS_ERROR", "\(wrapper).\(field) must be an integer or null.")))
        }
        return .success(number)
    }

    private func ticketClass(
        _ eventID: String, _ classID: String, request: SimRequest, store: inout EventbriteStore, now: Double
    ) -> Outcome {
        guard let event = store.events[eventID] else { return (Self.notFound("event"), nil) }
        guard event.ticketClassID == classID else {
            return (EventbriteRendering.error(404, "NOT_FOUND", "The ticket class you requested does not exist."), nil)
        }
        // `quantity_total` is the deprecated spelling of `capacity`; accept either.
        let field = request.json?["ticket_class"]?["capacity"] == nil ? "quantity_total" : "capacity"
        return capacityEndpoint(
            request, eventID: eventID, wrapper: "ticket_class", field: field,
            call: "POST /events/\(eventID)/ticket_classes/\(classID)/", store: &store, now: now,
            write: { $0.setTicketClassCapacity(eventID: eventID, capacity: $1, now: now, lag: lag) },
            render: { EventbriteRendering.ticketClass($0, store: $1, base: base, now: $2) })
    }

    private func capacityTier(
        _ eventID: String, request: SimRequest, store: inout EventbriteStore, now: Double
    ) -> Outcome {
        capacityEndpoint(
            request, eventID: eventID, wrapper: "capacity_tier", field: "capacity_total",
            call: "POST /events/\(eventID)/capacity_tier/", store: &store, now: now,
            write: { $0.setTierCapacity(eventID: eventID, capacity: $1, now: now, lag: lag) },
            render: { EventbriteRendering.capacityTier($0, store: $1, now: $2) })
    }

    /// GET renders; POST reads `{wrapper: {field: N|null}}`, writes it, records the change and
    /// answers with the new state (the writer reads its own write; other GETs honour the lag).
    private func capacityEndpoint(
        _ request: SimRequest, eventID: String, wrapper: String, field: String, call: String,
        store: inout EventbriteStore, now: Double,
        write: (inout EventbriteStore, Int?) -> Result<(old: Int?, new: Int?), EventbriteStore.CapacityError>,
        render: (EventbriteStore.Event, EventbriteStore, Double) -> JSON
    ) -> Outcome {
        guard store.events[eventID] != nil else { return (Self.notFound("event"), nil) }
        var change: CapacityChange?
        if request.method == "POST" {
            switch capacityArgument(request, wrapper: wrapper, field: field) {
            case .failure(let error): return (error.response, nil)
            case .success(let capacity):
                switch write(&store, capacity) {
                case .failure(let error): return (EventbriteRendering.error(400, error.code, error.description), nil)
                case .success(let values):
                    change = CapacityChange(
                        platform: .eventbrite, eventID: eventID, old: values.old, new: values.new, time: now, call: call,
                        sold: store.sold(eventID))
                }
            }
        }
        let readAt = request.method == "POST" ? now + lag : now
        guard let updated = store.events[eventID] else { return (Self.notFound("event"), change) }
        return (.json(200, render(updated, store, readAt)), change)
    }
}

/// A ready error response carried through `Result`.
struct SimResponseError: Error {
    var response: SimResponse
    init(_ response: SimResponse) { self.response = response }
}
