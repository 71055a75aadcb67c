import Foundation
import TrafficPoliceCore

/// One row of an event's capacity history, as the ledger keeps it.
public struct CapacityChangeRecord: Sendable, Hashable, Codable {
    /// Increases with every row of every event: rows of one event sort by it.
    public var id: Int64
    /// The platform concerned (a transfer's receiver); nil for an event-wide row such as red alert.
    public var platform: Platform?
    public var kind: CapacityChangeKind
    /// A transfer's moved tickets.
    public var tickets: Int?
    /// A transfer's donor.
    public var fromPlatform: Platform?
    /// The capacity published to the platform.
    public var capacity: Int?
    /// What the platform held when its capacity was published.
    public var sold: Int?
    /// The fencing token the step carried.
    public var fence: Int
    /// Whether the platform confirmed the published capacity.
    public var confirmed: Bool
    public var detail: String
    public var createdAt: Date

    public init(
        id: Int64, platform: Platform?, kind: CapacityChangeKind, tickets: Int? = nil, fromPlatform: Platform? = nil,
        capacity: Int? = nil, sold: Int? = nil, fence: Int, confirmed: Bool = false, detail: String = "",
        createdAt: Date
    ) {
        self.id = id
        self.platform = platform
        self.kind = kind
        self.tickets = tickets
        self.fromPlatform = fromPlatform
        self.capacity = capacity
        self.sold = sold
        self.fence = fence
        self.confirmed = confirmed
        self.detail = detail
        self.createdAt = createdAt
    }
}
