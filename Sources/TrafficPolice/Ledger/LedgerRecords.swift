import TrafficPoliceCore

/// An event as the ledger holds it.
public struct EventRecord: Sendable, Hashable {
    public var id: EventID
    public var name: String
    public var policy: CapacityPolicy
    public var mode: EventMode
    /// Tickets held, kept in step with the orders and sales (never above the capacity).
    public var sold: Int

    public init(id: EventID, name: String, policy: CapacityPolicy, mode: EventMode = .open, sold: Int = 0) {
        self.id = id
        self.name = name
        self.policy = policy
        self.mode = mode
        self.sold = sold
    }
}

/// An event's listing on one platform.
public struct Listing: Sendable, Hashable {
    public var platform: Platform
    public var allocation: Int
    /// The capacity last told to the platform (0 while unlinked).
    public var published: Int
    public var platformEventID: String?
    public var ticketClassID: String?

    public var isLinked: Bool { platformEventID != nil }
}

/// Where an order came from, recorded with it.
public enum OrderSource: String, Sendable, Hashable, CaseIterable {
    case webhook, poll, reconcile, cli, test
}

/// Why the ledger refused a write.
public enum LedgerError: Error, Sendable, CustomStringConvertible {
    case eventExists(EventID)
    case eventNotFound(EventID)
    case platformEventTaken(platform: Platform, platformEventID: String, by: EventID)
    /// The ledger's own check refused a count above the capacity (Redis and the ledger disagree).
    case wouldOversell(EventID)
    /// A transfer would take more tickets from the donor's allocation than it holds in the ledger.
    case transferExceedsAllocation(EventID, donor: Platform, moved: Int, allocation: Int)
    case corrupt(String)

    public var description: String {
        switch self {
        case .eventExists(let id): "event \(id) already exists"
        case .eventNotFound(let id): "no event \(id)"
        case .platformEventTaken(let platform, let pid, let other):
            "\(platform.rawValue) event \(pid) is already linked to event \(other)"
        case .wouldOversell(let id):
            "the ledger refused to count more than the capacity of event \(id): Redis and the ledger disagree; rebuild the counters"
        case .transferExceedsAllocation(let id, let donor, let moved, let allocation):
            "the ledger refused to move \(moved) tickets from the \(donor.rawValue) allocation of event \(id), which holds \(allocation): Redis and the ledger disagree; rebuild the counters"
        case .corrupt(let detail): "the ledger holds an unexpected value: \(detail)"
        }
    }
}
