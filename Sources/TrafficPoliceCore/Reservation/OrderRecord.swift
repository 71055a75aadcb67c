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
    /// The quantity the platform last asked for: the first reservation's quantity, 0 after a
    /// release, an amendment's target after it. It differs from ``heldQuantity`` only when an
    /// increase (or the order itself) was overbooked, so a repeat of that amendment is refused again.
    public var target: Int
    /// The platform's version of the last amendment (e.g. Meetup's `updated`, in ms); 0 when unknown.
    /// An amendment with a lower version is stale and changes nothing.
    public var version: Int64
    /// How many times an amendment or a release changed the record once it had been amended (0 for
    /// an order never amended): the ledger applies a record only over an older revision.
    public var revision: Int

    public init(
        channel: SalesChannel, orderID: String, quantity: Int, outcome: ReservationOutcome, excess: Int = 0,
        released: Bool = false, target: Int? = nil, version: Int64 = 0, revision: Int = 0
    ) {
        self.channel = channel
        self.orderID = orderID
        self.quantity = quantity
        self.outcome = outcome
        self.excess = excess
        self.released = released
        self.target = target ?? (released ? 0 : quantity)
        self.version = version
        self.revision = revision
    }

    /// Tickets this order holds now.
    public var heldQuantity: Int { outcome.holdsTickets && !released ? quantity : 0 }

    /// The field naming the order in the event's orders hash: `channel:orderID`.
    public var key: String { OrderRecord.key(channel, orderID) }

    public static func key(_ channel: SalesChannel, _ orderID: String) -> String { "\(channel.name):\(orderID)" }
}
