/// The JSON shapes of Eventbrite v3 (platforms.md 1.3, 1.4, 1.6).
enum EventbriteRendering {
    static func error(_ status: Int, _ code: String, _ description: String) -> SimResponse {
        .json(status, ["error": .string(code), "error_description": .string(description), "status_code": .int(status)])
    }

    static func currency(_ minor: Int) -> JSON {
        let major = "\(minor / 100).\(minor % 100 < 10 ? "0" : "")\(minor % 100)"
        return ["currency": "USD", "value": .int(minor), "major_value": .string(major), "display": .string("$\(major)")]
    }

    static func costs() -> JSON {
        let zero = currency(0)
        return [
            "base_price": zero, "display_price": zero, "gross": zero, "eventbrite_fee": zero, "payment_fee": zero,
            "tax": zero,
        ]
    }

    static func order(_ order: EventbriteStore.Order, base: String, attendees: [JSON]?) -> JSON {
        var fields: [String: JSON] = [
            "id": .string(order.id), "created": .string(Timestamps.seconds(order.created)),
            "changed": .string(Timestamps.seconds(order.changed)), "name": .string(order.buyer.name),
            "first_name": .string(order.buyer.firstName), "last_name": .string(order.buyer.lastName),
            "email": .string(order.buyer.email), "costs": costs(), "event_id": .string(order.eventID),
            "time_remaining": .null, "status": "placed", "resource_uri": .string("\(base)/orders/\(order.id)/"),
        ]
        if let attendees { fields["attendees"] = .array(attendees) }
        return .object(fields)
    }

    static func attendee(_ attendee: EventbriteStore.Attendee, event: EventbriteStore.Event, base: String) -> JSON {
        let barcodeStatus = attendee.refunded ? "refunded" : "unused"
        let barcode: JSON = [
            "barcode": .string("\(attendee.orderID)\(attendee.id)001"), "status": .string(barcodeStatus),
            "created": .string(Timestamps.seconds(attendee.created)),
            "changed": .string(Timestamps.seconds(attendee.changed)), "checkin_type": 0, "is_printed": false,
        ]
        return [
            "id": .string(attendee.id), "created": .string(Timestamps.seconds(attendee.created)),
            "changed": .string(Timestamps.seconds(attendee.changed)), "ticket_class_id": .string(event.ticketClassID),
            "ticket_class_name": .string(event.ticketClassName), "quantity": 1, "costs": costs(),
            "profile": [
                "name": .string(attendee.buyer.name), "email": .string(attendee.buyer.email),
                "first_name": .string(attendee.buyer.firstName), "last_name": .string(attendee.buyer.lastName),
            ],
            "barcodes": [barcode], "checked_in": false, "cancelled": .bool(attendee.cancelled),
            "refunded": .bool(attendee.refunded), "status": .string(attendee.attending ? "Attending" : "Not Attending"),
            "event_id": .string(attendee.eventID), "order_id": .string(attendee.orderID),
            "resource_uri": .string("\(base)/events/\(attendee.eventID)/attendees/\(attendee.id)/"),
        ]
    }

    static func ticketClass(_ event: EventbriteStore.Event, store: EventbriteStore, base: String, now: Double) -> JSON {
        let sold = store.sold(event.id)
        let total = store.visibleCapacity(event, now: now)
        let status = total.map { sold >= $0 } ?? false ? "SOLD_OUT" : "AVAILABLE"
        return [
            "id": .string(event.ticketClassID), "name": .string(event.ticketClassName), "event_id": .string(event.id),
            "capacity": .optional(event.ticketClassCapacity.visible(at: now)), "quantity_total": .int(total ?? 0),
            "quantity_sold": .int(sold), "on_sale_status": .string(status), "free": true, "hidden": false,
            "resource_uri": .string("\(base)/events/\(event.id)/ticket_classes/\(event.ticketClassID)/"),
        ]
    }

    static func capacityTier(_ event: EventbriteStore.Event, store: EventbriteStore, now: Double) -> JSON {
        let sold = store.sold(event.id)
        let total = event.tierCapacity.visible(at: now)
        return [
            "event_id": .string(event.id), "quantity_pending": 0, "quantity_sold": .int(sold),
            "quantity_total": .int(total ?? 0), "capacity_pending": 0, "capacity_sold": .int(sold),
            "capacity_total": .optional(total), "capacity_is_custom": .bool(total != nil), "holds": [],
        ]
    }

    /// `pagination` exactly as platforms.md 1.3; `continuation` only while more items remain.
    static func pagination<T>(_ page: Page<T>, offset: Int, size: Int) -> JSON {
        var fields: [String: JSON] = [
            "object_count": .int(page.total), "page_number": .int(offset / max(size, 1) + 1),
            "page_size": .int(size), "page_count": .int(max(1, (page.total + size - 1) / max(size, 1))),
            "has_more_items": .bool(page.nextOffset != nil),
        ]
        if let next = page.nextOffset { fields["continuation"] = .string(OffsetCursor.encode(next, prefix: "eb:")) }
        return .object(fields)
    }
}
