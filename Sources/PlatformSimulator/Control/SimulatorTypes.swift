/// The three simulated platforms.
public enum Platform: String, Sendable, CaseIterable, Codable, Comparable {
    case eventbrite, luma, meetup

    public static func < (lhs: Platform, rhs: Platform) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Who buys: name and e-mail as the platform shows them.
public struct Buyer: Sendable, Equatable {
    public var name: String
    public var email: String

    public init(name: String, email: String) {
        self.name = name
        self.email = email
    }

    public var firstName: String { String(name.split(separator: " ").first ?? Substring(name)) }
    public var lastName: String { name.split(separator: " ").dropFirst().joined(separator: " ") }

    /// A deterministic buyer for sale number `n`.
    public static func numbered(_ n: Int) -> Buyer { Buyer(name: "Buyer \(n)", email: "buyer\(n)@example.test") }
}

/// Why a platform refused a sale.
public enum SaleRefusal: String, Error, Sendable, Equatable {
    /// Beyond the capacity the platform was last told (and no waitlist takes it).
    case soldOut = "sold_out"
    /// Sales or RSVPs closed (Meetup `closeEventRsvps`).
    case closed
    case unknownEvent = "unknown_event"
    case badQuantity = "bad_quantity"
}

/// A value as the platform currently shows it to GETs, which may lag the value it enforces
/// (Eventbrite's read-after-write lag).
public struct Lagged<Value: Sendable>: Sendable {
    public private(set) var current: Value
    private var previous: Value
    private var visibleAt: Double

    public init(_ value: Value) {
        current = value
        previous = value
        visibleAt = 0
    }

    /// What a read at `now` sees.
    public func visible(at now: Double) -> Value { now >= visibleAt ? current : previous }

    /// Sets the value at `now`; reads see it from `now + lag`.
    public mutating func set(_ value: Value, now: Double, lag: Double) {
        previous = visible(at: now)
        current = value
        visibleAt = now + lag
    }
}

/// A capacity change a platform received through its API.
public struct CapacityChange: Sendable, Equatable {
    public var platform: Platform
    public var eventID: String
    public var old: Int?
    public var new: Int?
    public var time: Double
    /// The API call, e.g. `POST /events/{id}/capacity_tier/`.
    public var call: String
    /// Tickets the listing held (what its capacity limits) right after the change.
    public var sold: Int = 0
    /// Meetup: RSVPs closed right after the change; false elsewhere.
    public var closed: Bool = false
}
