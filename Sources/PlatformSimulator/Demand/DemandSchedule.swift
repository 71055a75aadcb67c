import Foundation

/// What `POST /control/demand/start` asks for.
public struct DemandSpec: Sendable, Equatable {
    public enum Shape: String, Sendable { case steady, drop }

    /// The event sold on each platform taking part.
    public var events: [Platform: String]
    /// Mean arrivals per second (steady); the drop starts at 4× this and decays.
    public var ratePerSecond: Double
    /// Relative weights of the platforms (default equal).
    public var skew: [Platform: Double]
    /// The weights from the shift on (nil = the skew holds throughout).
    public var skewAfter: [Platform: Double]?
    /// Fraction of `total` arrivals after which `skewAfter` replaces `skew` (needs `total`).
    public var shiftAt: Double?
    public var quantityMin = 1
    public var quantityMax = 1
    /// Stop after this many arrivals (nil = no limit).
    public var total: Int?
    /// Stop after this long (nil = no limit; a drop without either lasts ~60 s of decay).
    public var durationMs: Int?
    public var shape = Shape.steady
    /// Share of sales cancelled 1–5 s after they are placed.
    public var cancelFraction = 0.0

    public init(events: [Platform: String], ratePerSecond: Double, skew: [Platform: Double] = [:]) {
        self.events = events
        self.ratePerSecond = ratePerSecond
        self.skew = skew
    }

    /// Reads the JSON body of `POST /control/demand/start`.
    public static func parse(_ json: JSON) throws -> DemandSpec {
        guard let eventsJSON = json["events"]?.objectValue, !eventsJSON.isEmpty else {
            throw ConfigurationError("events must map eventbrite/luma/meetup to event ids")
        }
        var events: [Platform: String] = [:]
        for (key, value) in eventsJSON {
            guard let platform = Platform(rawValue: key), let id = value.stringValue else {
                throw ConfigurationError("events.\(key): expected a platform name and an event id string")
            }
            events[platform] = id
        }
        guard let rate = json["rate_per_second"]?.doubleValue, rate > 0 else {
            throw ConfigurationError("rate_per_second must be a positive number")
        }
        var spec = DemandSpec(events: events, ratePerSecond: rate)
        spec.skew = try parseSkew(json["skew"], key: "skew")
        if let quantity = json["quantity"] {
            spec.quantityMin = quantity["min"]?.intValue ?? 1
            spec.quantityMax = quantity["max"]?.intValue ?? spec.quantityMin
            guard spec.quantityMin >= 1, spec.quantityMax >= spec.quantityMin else {
                throw ConfigurationError("quantity: 1 ≤ min ≤ max")
            }
        }
        spec.total = json["total"]?.intValue
        spec.durationMs = json["duration_ms"]?.intValue
        if let shape = json["shape"]?.stringValue {
            guard let parsed = Shape(rawValue: shape) else { throw ConfigurationError("shape is steady or drop") }
            spec.shape = parsed
        }
        spec.cancelFraction = json["cancel_fraction"]?.doubleValue ?? 0
        guard (0...1).contains(spec.cancelFraction) else { throw ConfigurationError("cancel_fraction is in [0, 1]") }
        try parseShift(json, into: &spec)
        return spec
    }

    private static func parseSkew(_ json: JSON?, key: String) throws -> [Platform: Double] {
        var skew: [Platform: Double] = [:]
        for (name, value) in json?.objectValue ?? [:] {
            guard let platform = Platform(rawValue: name), let weight = value.doubleValue, weight >= 0 else {
                throw ConfigurationError("\(key).\(name): expected a platform name and a weight ≥ 0")
            }
            skew[platform] = weight
        }
        return skew
    }

    /// `skew_after` and `shift_at` come together, and only with `total`.
    private static func parseShift(_ json: JSON, into spec: inout DemandSpec) throws {
        let after = json["skew_after"]
        let shift = json["shift_at"]
        guard after != nil || shift != nil else { return }
        guard let after, after.objectValue != nil, let shift else {
            throw ConfigurationError("skew_after (an object) and shift_at come together")
        }
        guard let fraction = shift.doubleValue, fraction > 0, fraction < 1 else {
            throw ConfigurationError("shift_at is a fraction of total in (0, 1)")
        }
        guard spec.total != nil else { throw ConfigurationError("shift_at needs total") }
        spec.skewAfter = try parseSkew(after, key: "skew_after")
        spec.shiftAt = fraction
    }
}

/// One buyer's arrival.
public struct DemandArrival: Sendable, Equatable {
    /// Milliseconds after the start.
    public var atMs: Double
    public var platform: Platform
    public var eventID: String
    public var quantity: Int
    /// When set, the sale (if made) is cancelled this long after it was placed.
    public var cancelAfterMs: Double?
}

/// The seeded arrival process: a Poisson stream, constant-rate (`steady`) or exponentially decaying
/// (`drop`: rate 4r·e^(−t/τ), most buyers in the first moments), each arrival assigned a platform by
/// the skew weights (`skew_after` from arrival ⌊shift_at × total⌋ on) and a uniform quantity.
/// Same spec and seed → same arrivals.
public struct DemandSchedule: IteratorProtocol, Sendable {
    public let spec: DemandSpec
    private var random: SeededRandom
    private var unitTime = 0.0
    private var emitted = 0
    private let platforms: [(Platform, Double)]
    private let platformsAfter: [(Platform, Double)]
    /// The arrival number from which `platformsAfter` applies.
    private let shiftIndex: Int
    private let tau: Double

    public init(spec: DemandSpec, seed: UInt64) {
        self.spec = spec
        random = SeededRandom(seed: seed ^ 0xD1CE_D1CE)
        platforms = Self.weights(spec.skew, events: spec.events)
        if let after = spec.skewAfter, let shiftAt = spec.shiftAt, let total = spec.total {
            platformsAfter = Self.weights(after, events: spec.events)
            shiftIndex = Int((Double(total) * shiftAt).rounded(.down))
        } else {
            platformsAfter = platforms
            shiftIndex = Int.max
        }
        let peak = 4 * spec.ratePerSecond
        if let total = spec.total {
            tau = Double(total) / peak * 1.05
        } else {
            tau = Double(spec.durationMs ?? 60_000) / 1000 / 4
        }
    }

    private static func weights(_ skew: [Platform: Double], events: [Platform: String]) -> [(Platform, Double)] {
        events.keys.sorted().map { ($0, skew.isEmpty ? 1.0 : skew[$0] ?? 0) }.filter { $0.1 > 0 }
    }

    public mutating func next() -> DemandArrival? {
        if let total = spec.total, emitted >= total { return nil }
        let platforms = emitted >= shiftIndex ? platformsAfter : platforms
        guard !platforms.isEmpty else { return nil }
        unitTime += -log(1 - random.unit())
        let seconds: Double
        switch spec.shape {
        case .steady:
            seconds = unitTime / spec.ratePerSecond
        case .drop:
            let mass = 4 * spec.ratePerSecond * tau
            guard unitTime < mass else { return nil }
            seconds = -tau * log(1 - unitTime / mass)
        }
        let atMs = seconds * 1000
        if let duration = spec.durationMs, atMs > Double(duration) { return nil }
        let totalWeight = platforms.reduce(0) { $0 + $1.1 }
        var pick = random.unit() * totalWeight
        var platform = platforms[platforms.count - 1].0
        for (candidate, weight) in platforms {
            if pick < weight {
                platform = candidate
                break
            }
            pick -= weight
        }
        let span = spec.quantityMax - spec.quantityMin
        let quantity = spec.quantityMin + (span == 0 ? 0 : Int(random.next() % UInt64(span + 1)))
        let cancels = random.unit() < spec.cancelFraction
        let cancelAfter = 1000 + random.unit() * 4000
        emitted += 1
        return DemandArrival(
            atMs: atMs, platform: platform, eventID: spec.events[platform] ?? "", quantity: quantity,
            cancelAfterMs: cancels ? cancelAfter : nil)
    }
}
