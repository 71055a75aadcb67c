/// The part of Meetup's `gql-ext` schema the simulator answers: type name → field → the field's
/// object type (nil for a scalar or enum). Documents asking for anything else fail validation.
enum MeetupSchema {
    static let types: [String: [String: String?]] = [
        "Query": ["event": "Event"],
        "Mutation": [
            "editEvent": "EditEventPayload", "closeEventRsvps": "CloseEventRsvpsPayload",
            "openEventRsvps": "OpenEventRsvpsPayload",
        ],
        "EditEventPayload": ["event": "Event", "errors": "PayloadError"],
        "CloseEventRsvpsPayload": ["event": "Event", "errors": "PayloadError"],
        "OpenEventRsvpsPayload": ["event": "Event", "errors": "PayloadError"],
        "PayloadError": ["code": nil, "field": nil, "message": nil],
        "Event": [
            "id": nil, "title": nil, "status": nil, "maxTickets": nil, "waitlistMode": nil, "token": nil,
            "dateTime": nil, "createdTime": nil, "guestLimit": nil, "guestsAllowed": nil,
            "numberOfAllowedGuests": nil, "eventUrl": nil, "rsvpSettings": "RsvpOpenSettings",
            "rsvps": "RsvpConnection",
        ],
        "RsvpOpenSettings": [
            "rsvpsClosed": nil, "rsvpOpenTime": nil, "rsvpCloseTime": nil, "openTime": nil, "closeTime": nil,
        ],
        "RsvpConnection": [
            "totalCount": nil, "count": nil, "yesCount": nil, "waitlistCount": nil, "noCount": nil,
            "attendedCount": nil, "noShowCount": nil, "absentCount": nil, "pageInfo": "PageInfo",
            "edges": "RsvpEdge",
        ],
        "PageInfo": ["hasNextPage": nil, "hasPreviousPage": nil, "startCursor": nil, "endCursor": nil],
        "RsvpEdge": ["cursor": nil, "node": "Rsvp"],
        "Rsvp": [
            "id": nil, "status": nil, "guestsCount": nil, "updated": nil, "isHost": nil, "isFirstEvent": nil,
            "payStatus": nil, "member": "Member", "event": "Event",
        ],
        "Member": ["id": nil, "name": nil],
    ]

    /// Arguments each field accepts (others fail validation).
    static let arguments: [String: Set<String>] = [
        "Query.event": ["id"], "Mutation.editEvent": ["input"], "Mutation.closeEventRsvps": ["input"],
        "Mutation.openEventRsvps": ["input"], "Event.rsvps": ["first", "after", "filter", "sort"],
    ]

    /// A validation failure: message and the field's position.
    struct ValidationError: Error, Equatable {
        var message: String
        var line: Int
        var column: Int
    }

    /// Checks every selection of `document` against the schema.
    static func validate(_ document: GraphQLDocument) -> ValidationError? {
        let root = document.operation == .query ? "Query" : "Mutation"
        return validate(document.selections, on: root)
    }

    private static func validate(_ fields: [GraphQLDocument.Field], on type: String) -> ValidationError? {
        guard let known = types[type] else { return nil }
        for field in fields {
            if field.name == "__typename" { continue }
            guard let child = known[field.name] else {
                return ValidationError(
                    message: "Cannot query field \"\(field.name)\" on type \"\(type)\".", line: field.line,
                    column: field.column)
            }
            let allowed = arguments["\(type).\(field.name)"] ?? []
            if let unknown = field.arguments.keys.sorted().first(where: { !allowed.contains($0) }) {
                return ValidationError(
                    message: "Unknown argument \"\(unknown)\" on field \"\(type).\(field.name)\".", line: field.line,
                    column: field.column)
            }
            if let child {
                guard !field.selections.isEmpty else {
                    return ValidationError(
                        message: "Field \"\(field.name)\" of type \"\(child)\" must have a selection of subfields.",
                        line: field.line, column: field.column)
                }
                if let error = validate(field.selections, on: child) { return error }
            } else if !field.selections.isEmpty {
                return ValidationError(
                    message: "Field \"\(field.name)\" must not have a selection since type has no subfields.",
                    line: field.line, column: field.column)
            }
        }
        return nil
    }
}
