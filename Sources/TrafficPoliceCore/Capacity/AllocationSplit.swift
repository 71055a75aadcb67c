/// Weights for the initial split of C − S over the platforms (`--split eventbrite=1,luma=1,meetup=1`).
///
/// The default gives every platform the same weight. A platform left out of a `--split`
/// gets weight 0. The allocations are placed by the largest-remainder method, so they
/// always sum to exactly the total being split.
public struct AllocationSplit: Sendable, Hashable {
    /// Weight per platform, in millionths (so `0.6` and `60` are both exact).
    public let weights: [Platform: Int64]

    /// The same weight for every platform.
    public static let equal = AllocationSplit(uncheckedWeights: Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, 1) }))

    private init(uncheckedWeights: [Platform: Int64]) {
        self.weights = uncheckedWeights
    }

    public init(weights: [Platform: Int64]) throws {
        guard weights.values.allSatisfy({ $0 >= 0 }) else {
            throw DomainError("split weights must not be negative")
        }
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw DomainError("split weights must not all be zero")
        }
        var complete = weights
        for platform in Platform.allCases where complete[platform] == nil { complete[platform] = 0 }
        self.weights = complete
    }

    /// Parses `eventbrite=1,luma=1,meetup=1` (weights are non-negative decimals; unnamed platforms get 0).
    public init(parsing text: String) throws {
        var weights: [Platform: Int64] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else {
                throw DomainError("split entry '\(item)' is not platform=weight (e.g. eventbrite=1,luma=1,meetup=1)")
            }
            let name = pair[0].trimmingSpaces
            guard let platform = Platform(rawValue: name) else {
                throw DomainError("split names unknown platform '\(name)' (use eventbrite, luma, meetup)")
            }
            guard weights[platform] == nil else {
                throw DomainError("split names \(platform.rawValue) twice")
            }
            weights[platform] = try AllocationSplit.parseWeight(pair[1].trimmingSpaces, platform: platform)
        }
        try self.init(weights: weights)
    }

    private static func parseWeight(_ text: String, platform: Platform) throws -> Int64 {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        let digits = { (s: String) in s.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }
        guard !whole.isEmpty || !fraction.isEmpty, digits(whole), digits(fraction), whole.utf8.count <= 4,
            fraction.utf8.count <= 6
        else {
            throw DomainError("weight '\(text)' for \(platform.rawValue) is not a number from 0 to 9999")
        }
        let padded = fraction + String(repeating: "0", count: 6 - fraction.utf8.count)
        return (Int64(whole) ?? 0) * 1_000_000 + (Int64(padded) ?? 0)
    }

    /// Splits `total` tickets over the platforms in proportion to the weights; the parts sum to `total`.
    ///
    /// Each platform first gets floor(total × w / W); the tickets left over go one each to the
    /// platforms with the largest remainders (ties to the earlier platform in `Platform.allCases`).
    public func allocate(_ total: Int) -> [Platform: Int] {
        let sum = weights.values.reduce(0, +)
        guard total > 0, sum > 0 else {
            return Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, 0) })
        }
        var result: [Platform: Int] = [:]
        var remainders: [(platform: Platform, remainder: Int64)] = []
        var placed = 0
        for platform in Platform.allCases {
            let weighted = Int64(total) * (weights[platform] ?? 0)
            let base = Int(weighted / sum)
            result[platform] = base
            placed += base
            remainders.append((platform, weighted % sum))
        }
        remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.platform < $1.platform }
        for index in 0..<(total - placed) {
            result[remainders[index % remainders.count].platform, default: 0] += 1
        }
        return result
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
