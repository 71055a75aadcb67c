/// Runs a validated `GraphQLDocument` against a `MeetupStore`: only the requested fields are returned
/// (aliases honoured), RSVP nodes are counted for the point cost, mutations change the store.
struct MeetupExecutor {
    /// What one document did.
    struct Result {
        var data: [String: JSON] = [:]
        var errors: [JSON] = []
        /// RSVP nodes returned (1 point each).
        var nodes = 0
        var mutations = 0
        var changes: [CapacityChange] = []
    }

    var variables: [String: JSON]
    var maxPageSize: Int
    var now: Double
    private var result = Result()

    init(variables: [String: JSON], maxPageSize: Int, now: Double) {
        self.variables = variables
        self.maxPageSize = maxPageSize
        self.now = now
    }

    mutating func run(_ document: GraphQLDocument, store: inout MeetupStore) -> Result {
        for (name, value) in document.variableDefaults where variables[name] == nil {
            variables[name] = resolve(value)
        }
        for field in document.selections {
            let key = field.responseKey
            if field.name == "__typename" {
                result.data[key] = .string(document.operation == .query ? "Query" : "Mutation")
                continue
            }
            switch document.operation {
            case .query:
                let id = resolve(field.arguments["id"] ?? .null).stringValue ?? ""
                result.data[key] = store.events[id].map { event(store: store, $0, field.selections, path: [.string(key)]) } ?? .null
            case .mutation:
                result.mutations += 1
                result.data[key] = mutation(field, store: &store, path: [.string(key)])
            }
        }
        return result
    }

    /// Turns an argument (with `$variables`) into JSON.
    func resolve(_ value: GraphQLDocument.Value) -> JSON {
        switch value {
        case .variable(let name): return variables[name] ?? .null
        case .int(let number): return .int(number)
        case .float(let number): return .double(number)
        case .string(let text), .enumValue(let text): return .string(text)
        case .bool(let flag): return .bool(flag)
        case .null: return .null
        case .list(let items): return .array(items.map(resolve))
        case .object(let members): return .object(members.mapValues(resolve))
        }
    }

    private mutating func mutation(_ field: GraphQLDocument.Field, store: inout MeetupStore, path: [JSON]) -> JSON {
        let input = resolve(field.arguments["input"] ?? .null)
        let eventID = input["eventId"]?.stringValue ?? input["id"]?.stringValue ?? ""
        var errors: [JSON] = []
        func payloadError(_ code: String, _ field: String?, _ message: String) {
            errors.append(["code": .string(code), "field": .optional(field), "message": .string(message)])
        }
        if store.events[eventID] == nil {
            payloadError("EVENT_NOT_FOUND", "eventId", "Event \(eventID) not found")
        } else if let fault = store.takeMutationFault(eventID) {
            payloadError(fault.code, nil, fault.message)
        } else {
            switch field.name {
            case "editEvent":
                let settings = input["rsvpSettings"]
                let requested = settings?["rsvpLimit"] ?? settings?["limit"] ?? input["maxTickets"]
                if let requested, !requested.isNull {
                    if let limit = requested.intValue, limit >= 0 {
                        if let (old, _) = store.setLimit(eventID: eventID, limit, now: now) {
                            result.changes.append(
                                CapacityChange(
                                    platform: .meetup, eventID: eventID, old: old, new: limit, time: now,
                                    call: "mutation editEvent", sold: store.taken(eventID),
                                    closed: store.events[eventID]?.rsvpsClosed ?? false))
                        }
                    } else {
                        payloadError("INVALID_INPUT", "rsvpSettings.rsvpLimit", "rsvpLimit must be a non-negative integer")
                    }
                }
            case "closeEventRsvps", "openEventRsvps":
                let closing = field.name == "closeEventRsvps"
                let wasClosed = store.events[eventID]?.rsvpsClosed ?? false
                _ = store.setClosed(eventID: eventID, closing)
                if wasClosed != closing {
                    let limit = store.events[eventID]?.rsvpLimit
                    result.changes.append(
                        CapacityChange(
                            platform: .meetup, eventID: eventID, old: closing ? limit : 0, new: closing ? 0 : limit,
                            time: now, call: "mutation \(field.name)", sold: store.taken(eventID), closed: closing))
                }
            default:
                break
            }
        }
        var payload: [String: JSON] = [:]
        for selection in field.selections {
            let key = selection.responseKey
            switch selection.name {
            case "event":
                payload[key] =
                    errors.isEmpty
                    ? store.events[eventID].map {
                        event(store: store, $0, selection.selections, path: path + [.string(key)])
                    } ?? .null : .null
            case "errors":
                payload[key] = .array(errors.map { object($0, selection.selections) })
            case "__typename":
                payload[key] = .string(field.name.prefix(1).uppercased() + field.name.dropFirst() + "Payload")
            default:
                payload[key] = .null
            }
        }
        return .object(payload)
    }

    /// Keeps only the selected keys of a flat object.
    private func object(_ value: JSON, _ fields: [GraphQLDocument.Field]) -> JSON {
        var out: [String: JSON] = [:]
        for field in fields { out[field.responseKey] = value[field.name] ?? .null }
        return .object(out)
    }

    private mutating func event(
        store: MeetupStore, _ event: MeetupStore.Event, _ fields: [GraphQLDocument.Field], path: [JSON]
    ) -> JSON {
        var out: [String: JSON] = [:]
        for field in fields {
            let key = field.responseKey
            switch field.name {
            case "__typename": out[key] = "Event"
            case "id": out[key] = .string(event.id)
            case "token": out[key] = .string("token-\(event.id)")
            case "title": out[key] = .string("Simulated event \(event.id)")
            case "status": out[key] = "ACTIVE"
            case "maxTickets": out[key] = .int(event.rsvpLimit)
            case "waitlistMode": out[key] = "AUTO"
            case "dateTime": out[key] = .string(Timestamps.milliseconds(event.created + 30 * 86_400))
            case "createdTime": out[key] = .string(Timestamps.milliseconds(event.created))
            case "guestLimit", "numberOfAllowedGuests": out[key] = 9
            case "guestsAllowed": out[key] = true
            case "eventUrl": out[key] = .string("https://www.meetup.com/sim/events/\(event.id)/")
            case "rsvpSettings":
                let settings: JSON = [
                    "rsvpsClosed": .bool(event.rsvpsClosed), "rsvpOpenTime": .null, "rsvpCloseTime": .null,
                    "openTime": .null, "closeTime": .null, "__typename": "RsvpOpenSettings",
                ]
                out[key] = object(settings, field.selections)
            case "rsvps":
                out[key] = rsvps(store: store, event, field, path: path + [.string(key)])
            default: out[key] = .null
            }
        }
        return .object(out)
    }

    private mutating func rsvps(
        store: MeetupStore, _ event: MeetupStore.Event, _ field: GraphQLDocument.Field, path: [JSON]
    ) -> JSON {
        let filter = resolve(field.arguments["filter"] ?? .null)
        let requested = (filter["rsvpStatus"] ?? filter["status"])?.arrayValue?.compactMap(\.stringValue)
        let statuses = Set(requested ?? ["YES", "ATTENDED"])
        let first = min(max(resolve(field.arguments["first"] ?? .null).intValue ?? 20, 0), maxPageSize)
        var offset = 0
        if let after = resolve(field.arguments["after"] ?? .null).stringValue {
            guard let decoded = OffsetCursor.meetupOffset(after) else {
                return badUserInput("Invalid cursor \"\(after)\".", at: field, path: path)
            }
            offset = decoded + 1
        }
        let sort = resolve(field.arguments["sort"] ?? .null)
        let sortField = sort["sortField"]?.stringValue ?? "RSVP_ID"
        let sortOrder = sort["sortOrder"]?.stringValue ?? "ASC"
        guard let order = MeetupStore.Sort(sortField: sortField), sortOrder == "ASC" || sortOrder == "DESC" else {
            return badUserInput("Unsupported sort {sortField: \(sortField), sortOrder: \(sortOrder)}.", at: field, path: path)
        }
        let all = store.rsvps(of: event.id, statuses: statuses, sort: order, descending: sortOrder == "DESC")
        let page = Page(all, offset: offset, size: max(first, 1))
        let items = first == 0 ? [] : page.items
        var out: [String: JSON] = [:]
        for selection in field.selections {
            let key = selection.responseKey
            switch selection.name {
            case "__typename": out[key] = "RsvpConnection"
            case "totalCount", "count": out[key] = .int(all.count)
            case "yesCount": out[key] = .int(store.count(event.id, status: "YES"))
            case "waitlistCount": out[key] = .int(store.count(event.id, status: "WAITLIST"))
            case "noCount": out[key] = .int(store.count(event.id, status: "NO"))
            case "attendedCount", "noShowCount", "absentCount": out[key] = 0
            case "pageInfo":
                let info: JSON = [
                    "hasNextPage": .bool(first > 0 && page.nextOffset != nil), "hasPreviousPage": .bool(offset > 0),
                    "startCursor": items.isEmpty ? .null : .string(OffsetCursor.meetup(offset)),
                    "endCursor": items.isEmpty ? .null : .string(OffsetCursor.meetup(offset + items.count - 1)),
                    "__typename": "PageInfo",
                ]
                out[key] = object(info, selection.selections)
            case "edges":
                var edges: [JSON] = []
                for (index, rsvp) in items.enumerated() {
                    var edge: [String: JSON] = [:]
                    for part in selection.selections {
                        switch part.name {
                        case "cursor": edge[part.responseKey] = .string(OffsetCursor.meetup(offset + index))
                        case "node":
                            result.nodes += 1
                            edge[part.responseKey] = node(store: store, rsvp, part.selections, path: path)
                        case "__typename": edge[part.responseKey] = "RsvpEdge"
                        default: edge[part.responseKey] = .null
                        }
                    }
                    edges.append(.object(edge))
                }
                out[key] = .array(edges)
            default: out[key] = .null
            }
        }
        return .object(out)
    }

    /// Records a `BAD_USER_INPUT` error at `field` and answers null for it.
    private mutating func badUserInput(_ message: String, at field: GraphQLDocument.Field, path: [JSON]) -> JSON {
        result.errors.append(
            [
                "message": .string(message),
                "locations": [["line": .int(field.line), "column": .int(field.column)]], "path": .array(path),
                "extensions": ["code": "BAD_USER_INPUT"],
            ])
        return .null
    }

    private mutating func node(
        store: MeetupStore, _ rsvp: MeetupStore.Rsvp, _ fields: [GraphQLDocument.Field], path: [JSON]
    ) -> JSON {
        var out: [String: JSON] = [:]
        for field in fields {
            let key = field.responseKey
            switch field.name {
            case "__typename": out[key] = "Rsvp"
            case "id": out[key] = .string(rsvp.id)
            case "status": out[key] = .string(rsvp.status)
            case "guestsCount": out[key] = .int(rsvp.guestsCount)
            case "updated": out[key] = .string(Timestamps.milliseconds(epochMilliseconds: rsvp.updatedMs))
            case "isHost", "isFirstEvent": out[key] = false
            case "payStatus": out[key] = "NONE"
            case "member":
                out[key] = object(
                    ["id": .string(rsvp.memberID), "name": .string(rsvp.buyer.name), "__typename": "Member"],
                    field.selections)
            case "event":
                out[key] =
                    store.events[rsvp.eventID].map { event(store: store, $0, field.selections, path: path) } ?? .null
            default: out[key] = .null
            }
        }
        return .object(out)
    }
}
