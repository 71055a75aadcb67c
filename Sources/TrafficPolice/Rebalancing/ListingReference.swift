import TrafficPoliceCore

/// Where an event is listed on one platform (from the ledger's listings).
public struct ListingReference: Sendable, Hashable {
    public var platform: Platform
    public var platformEventID: String
    /// Eventbrite's linked ticket class; nil publishes the event's capacity tier.
    public var ticketClassID: String?

    public init(platform: Platform, platformEventID: String, ticketClassID: String? = nil) {
        self.platform = platform
        self.platformEventID = platformEventID
        self.ticketClassID = ticketClassID
    }
}

extension ListingReference {
    /// The linked listings among an event's ledger listings.
    public static func linked(_ listings: [Platform: Listing]) -> [Platform: ListingReference] {
        var references: [Platform: ListingReference] = [:]
        for (platform, listing) in listings {
            guard let id = listing.platformEventID else { continue }
            references[platform] = ListingReference(platform: platform, platformEventID: id, ticketClassID: listing.ticketClassID)
        }
        return references
    }
}

/// What a platform says of a listing now.
public struct PlatformCapacity: Sendable, Hashable {
    /// The total published, sold included; nil = unlimited (or unknown when `capacityKnown` is false).
    public var capacity: Int?
    /// What the platform counts as taken, when it says.
    public var sold: Int?
    /// Closed for sale (Meetup RSVPs closed, or sold out at its capacity).
    public var closed: Bool
    /// False when the platform does not report its capacity: Luma's `events/get` has no `max_capacity`.
    public var capacityKnown: Bool

    public init(capacity: Int?, sold: Int?, closed: Bool, capacityKnown: Bool = true) {
        self.capacity = capacity
        self.sold = sold
        self.closed = closed
        self.capacityKnown = capacityKnown
    }
}
