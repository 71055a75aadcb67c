/// An Eventbrite ticket class (`/events/{id}/ticket_classes/{tc}/`): its writable `capacity` is
/// what Traffic Police publishes for a linked ticket class.
public struct EventbriteTicketClass: Sendable, Hashable, Decodable {
    public var id: String
    public var name: String?
    public var eventID: String?
    /// Total available of this ticket (null when unset).
    public var capacity: Int?
    /// Available, limited by event, tier and ticket capacity (read).
    public var quantityTotal: Int?
    /// Sold, excluding in-progress purchases (read).
    public var quantitySold: Int?
    /// `AVAILABLE`, `SOLD_OUT`, `NOT_YET_ON_SALE`, `HIDDEN`, `UNAVAILABLE`, `UNKNOWN`.
    public var onSaleStatus: String?

    enum CodingKeys: String, CodingKey {
        case id, name, eventID = "event_id", capacity, quantityTotal = "quantity_total"
        case quantitySold = "quantity_sold", onSaleStatus = "on_sale_status"
    }
}

/// An event's capacity tier (`/events/{id}/capacity_tier/`), published when no ticket class is linked.
public struct EventbriteCapacityTier: Sendable, Hashable, Decodable {
    public var eventID: String?
    /// The event's capacity; null when it is not custom (the sum of ticket capacities).
    public var capacityTotal: Int?
    public var capacitySold: Int?
    public var capacityPending: Int?
    public var quantityTotal: Int?
    public var quantitySold: Int?
    public var quantityPending: Int?
    public var capacityIsCustom: Bool?

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", capacityTotal = "capacity_total", capacitySold = "capacity_sold"
        case capacityPending = "capacity_pending", quantityTotal = "quantity_total"
        case quantitySold = "quantity_sold", quantityPending = "quantity_pending"
        case capacityIsCustom = "capacity_is_custom"
    }
}
