/// An event's capacity and the two ratios of DESIGN.md section 3, validated.
///
/// - Safety stock S = ceil(C × safety_stock): never offered on any platform.
/// - Soft cap = floor(C × soft_cap): the sold count at which the event enters red alert.
/// - The platforms together may sell C − S.
///
/// Valid ratios: 0 ≤ safety_stock < 1 and 0 < soft_cap ≤ 1 − safety_stock.
public struct CapacityPolicy: Sendable, Hashable, Codable {
    /// The largest capacity accepted; keeps every sum far inside Redis's and PostgreSQL's integers.
    public static let maximumCapacity = 100_000_000

    public static let defaultSafetyStock: Ratio = .init(exactly: 100_000)
    public static let defaultSoftCap: Ratio = .init(exactly: 900_000)

    /// C, the number of tickets that exist.
    public let capacity: Int
    public let safetyStockRatio: Ratio
    public let softCapRatio: Ratio

    public init(
        capacity: Int,
        safetyStock: Ratio = CapacityPolicy.defaultSafetyStock,
        softCap: Ratio = CapacityPolicy.defaultSoftCap
    ) throws {
        guard capacity >= 1 else {
            throw DomainError("capacity must be at least 1, got \(capacity)")
        }
        guard capacity <= CapacityPolicy.maximumCapacity else {
            throw DomainError("capacity must be at most \(CapacityPolicy.maximumCapacity), got \(capacity)")
        }
        guard safetyStock.partsPerMillion < Ratio.scale else {
            throw DomainError("safety stock must be less than 1 (0 ≤ safety_stock < 1), got \(safetyStock)")
        }
        guard softCap.partsPerMillion > 0 else {
            throw DomainError("soft cap must be greater than 0 (0 < soft_cap ≤ 1 − safety_stock), got \(softCap)")
        }
        guard softCap.partsPerMillion <= Ratio.scale - safetyStock.partsPerMillion else {
            throw DomainError(
                "soft cap \(softCap) must be at most 1 − safety stock = \(Ratio(exactly: Ratio.scale - safetyStock.partsPerMillion))"
            )
        }
        self.capacity = capacity
        self.safetyStockRatio = safetyStock
        self.softCapRatio = softCap
    }

    /// S, in tickets.
    public var safetyStock: Int { safetyStockRatio.ceilTimes(capacity) }

    /// The soft cap, in tickets sold.
    public var softCap: Int { softCapRatio.floorTimes(capacity) }

    /// C − S: what the platforms together may sell before anything is absorbed.
    public var platformShare: Int { capacity - safetyStock }
}

extension Ratio {
    /// A ratio known to be in range (used for constants and values already checked).
    init(exactly partsPerMillion: Int64) {
        self.partsPerMillion = min(max(partsPerMillion, 0), Ratio.scale)
    }
}
