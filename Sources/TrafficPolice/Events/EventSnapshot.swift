import TrafficPoliceCore

/// What `event show --json` prints (DESIGN.md section 6 fixes the fields).
public struct EventSnapshot: Sendable, Hashable, Codable {
    /// One channel's line: `allocation`, `published` and `sold`.
    public struct ChannelState: Sendable, Hashable, Codable {
        public var allocation: Int
        public var published: Int
        public var sold: Int
        /// The platform's own event id once linked (platforms only).
        public var platformEventID: String?
        public var ticketClassID: String?

        enum CodingKeys: String, CodingKey {
            case allocation, published, sold
            case platformEventID = "platform_event_id"
            case ticketClassID = "ticket_class_id"
        }
    }

    public var id: String
    public var name: String
    public var capacity: Int
    /// S, in tickets.
    public var safetyStock: Int
    /// The soft cap, in tickets.
    public var softCap: Int
    public var safetyStockRatio: String
    public var softCapRatio: String
    /// Every ticket held (accepted and absorbed orders, box-office sales).
    public var sold: Int
    /// C − sold.
    public var stock: Int
    /// What no platform's allocation holds: what the box office may sell now.
    public var freeStock: Int
    public var mode: EventMode
    /// Keyed by `eventbrite`, `luma`, `meetup`, `box_office`.
    public var platforms: [String: ChannelState]
    /// `redis` for live counters, `ledger` when Redis could not be read.
    public var source: String

    enum CodingKeys: String, CodingKey {
        case id, name, capacity, sold, stock, mode, platforms, source
        case safetyStock = "safety_stock"
        case softCap = "soft_cap"
        case safetyStockRatio = "safety_stock_ratio"
        case softCapRatio = "soft_cap_ratio"
        case freeStock = "free_stock"
    }

    /// Builds the snapshot from counters (live or rebuilt) and the ledger's listings.
    public init(event: EventRecord, counters stock: EventCounters, listings: [Platform: Listing], source: String) {
        self.id = event.id.rawValue
        self.name = event.name
        self.capacity = event.policy.capacity
        self.safetyStock = event.policy.safetyStock
        self.softCap = event.policy.softCap
        self.safetyStockRatio = event.policy.safetyStockRatio.description
        self.softCapRatio = event.policy.softCapRatio.description
        self.sold = stock.totalSold
        self.stock = stock.stock
        self.freeStock = max(stock.freeStock, 0)
        self.mode = stock.mode
        self.source = source
        var platforms: [String: ChannelState] = [:]
        for platform in Platform.allCases {
            let listing = listings[platform]
            platforms[platform.rawValue] = ChannelState(
                allocation: stock.allocation[platform] ?? 0, published: listing?.published ?? 0,
                sold: stock.sold[.platform(platform)] ?? 0, platformEventID: listing?.platformEventID,
                ticketClassID: listing?.ticketClassID)
        }
        let boxOfficeSold = stock.sold[.boxOffice] ?? 0
        platforms[SalesChannel.boxOffice.name] = ChannelState(
            allocation: boxOfficeSold + max(stock.freeStock, 0), published: 0, sold: boxOfficeSold)
        self.platforms = platforms
    }
}
