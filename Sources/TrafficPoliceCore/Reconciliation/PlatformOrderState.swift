/// One order as its platform holds it now (an Eventbrite order, a Luma guest, a Meetup RSVP),
/// reduced to what the ledger is compared with: the tickets it holds (DESIGN.md section 4).
public struct PlatformOrderState: Sendable, Hashable, Codable {
    /// The platform's order id (Eventbrite order id, Luma guest id, Meetup RSVP id).
    public var orderID: String
    /// Tickets the order holds now: 0 when refunded, cancelled, declined, waitlisted or not YES;
    /// nil when the platform reports a state this version does not know (never guessed).
    public var quantity: Int?
    /// The platform's own status, for the report (`placed`, `approved`, `YES`, …).
    public var status: String
    /// The version an amendment to this state carries (Meetup: `updated` in ms; else the time it was read).
    public var version: Int64

    public init(orderID: String, quantity: Int?, status: String, version: Int64 = 0) {
        self.orderID = orderID
        self.quantity = quantity.map { max(0, $0) }
        self.status = status
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id", quantity, status, version
    }
}
