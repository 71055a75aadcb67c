/// The JSON shapes of Luma's public API (reference/luma-openapi.json).
enum LumaRendering {
    static func event(_ event: LumaStore.Event) -> JSON {
        [
            "platform": "luma", "id": .string(event.id), "user_id": "usr-simhost", "calendar_id": "cal-sim",
            "start_at": .string(Timestamps.milliseconds(event.created + 30 * 86_400)), "duration_interval": "PT2H",
            "end_at": .string(Timestamps.milliseconds(event.created + 30 * 86_400 + 7200)),
            "created_at": .string(Timestamps.milliseconds(event.created)), "timezone": "UTC",
            "name": .string(event.name), "description": "", "description_md": "", "geo_address_json": .null,
            "coordinate": .null, "meeting_url": .null, "location_type": "offline", "location_visibility": "public",
            "cover_url": "", "registration_questions": [], "url": .string("https://luma.com/\(event.id)"),
            "visibility": "public", "waitlist_status": .string(event.waitlistEnabled ? "enabled" : "disabled"),
            "feedback_email": .null,
            "hosts": [
                [
                    "id": "usr-simhost", "email": "host@example.test", "name": "Sim Host", "first_name": "Sim",
                    "last_name": "Host", "avatar_url": "",
                ]
            ],
        ]
    }

    static func ticket(_ id: String, event: LumaStore.Event) -> JSON {
        [
            "id": .string(id), "api_id": .string(id), "amount": 0, "amount_discount": 0, "amount_tax": 0,
            "currency": .null, "checked_in_at": .null, "event_ticket_type_id": .string(event.ticketTypeID),
            "is_captured": true, "name": .string(event.ticketTypeName),
        ]
    }

    /// The Guest object of `guests/list` (plus `event_ticket_orders` for `guests/get` and webhooks).
    static func guest(_ guest: LumaStore.Guest, event: LumaStore.Event, withOrders: Bool) -> JSON {
        var fields: [String: JSON] = [
            "id": .string(guest.id), "user_id": .string("usr-\(guest.id.dropFirst(4))"),
            "user_email": .string(guest.buyer.email), "user_name": .string(guest.buyer.name),
            "user_first_name": .string(guest.buyer.firstName), "user_last_name": .string(guest.buyer.lastName),
            "approval_status": .string(guest.approvalStatus), "check_in_qr_code": .string("https://luma.com/check-in/\(guest.id)"),
            "eth_address": .null, "invited_at": .null, "joined_at": .null, "phone_number": .null,
            "registered_at": .string(Timestamps.milliseconds(guest.registeredAt)), "registration_answers": [],
            "solana_address": .null, "utm_source": .null,
            "event_tickets": .array(guest.ticketIDs.map { ticket($0, event: event) }),
        ]
        if withOrders {
            fields["event_ticket_orders"] =
                guest.ticketIDs.isEmpty
                ? []
                : [
                    [
                        "id": .string(guest.orderID), "amount": 0, "amount_discount": 0, "amount_tax": 0,
                        "currency": .null, "coupon_info": .null, "is_captured": true,
                    ]
                ]
        }
        return .object(fields)
    }

    static func ticketType(_ event: LumaStore.Event) -> JSON {
        [
            "id": .string(event.ticketTypeID), "name": .string(event.ticketTypeName), "require_approval": false,
            "is_hidden": false, "description": .null, "valid_start_at": .null, "valid_end_at": .null,
            "max_capacity": .optional(event.ticketTypeMaxCapacity), "type": "free", "cents": .null, "currency": .null,
            "is_flexible": false, "min_cents": .null,
        ]
    }

    /// A webhook body: `{"type": …, "data": Guest + event_ticket_orders + custom_source + event [+ event_ticket]}`.
    static func webhook(type: String, guest: LumaStore.Guest, event: LumaStore.Event, ticketID: String? = nil) -> JSON {
        guard case .object(var data) = self.guest(guest, event: event, withOrders: true) else { return .null }
        data["custom_source"] = .null
        data["event"] = self.event(event)
        if let ticketID { data["event_ticket"] = ticket(ticketID, event: event) }
        return ["type": .string(type), "data": .object(data)]
    }
}
