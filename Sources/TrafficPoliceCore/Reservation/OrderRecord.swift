/// One order as the reservation step and the ledger remember it.
public struct OrderRecord: Sendable, Hashable, Codable {
    public var channel: SalesChannel
    /// The platform's id for the order (Eventbrite order id, Luma guest id, Meetup RSVP id) or the box-office sale id.
    public var orderID: String
    public var quantity: Int
    /// The first outcome; a repeat of the order returns it.
    public var outcome: ReservationOutcome
    /// For `absorbed`: how much the platform's allocation grew.
    public var excess: Int
    /// A refund or cancellation released it.
    public var released: Bool

    public init(
        channel: SalesChannel, orderID: String, quantity: Int, outcome: ReservationOutcome, excess: Int = 0,
        released: Bool = false
    ) {
        self.channel = channel
        self.orderID = orderID
        self.quantity = quantity
        self.outcome = outcome
        self.excess = excess
        self.released = released
    }

    /// Tickets this order holds now.
    public var heldQuantity: Int { outcome.holdsTickets && !released ? quantity : 0 }

    /// The field naming the order in the event's orders hash: `channel:orderID`.
    public var key: String { OrderRecord.key(channel, orderID) }

    public static func key(_ channel: SalesChannel, _ orderID: String) -> String { "\(channel.name):\(orderID)" }
}
