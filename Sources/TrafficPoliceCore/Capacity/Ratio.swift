/// A ratio between 0 and 1 held exactly, in parts per million.
///
/// Capacity arithmetic must not depend on binary floating point: `0.07 × 100` is
/// `7.000000000000001` as a `Double`, whose ceiling would be 8 tickets instead of 7.
/// Ratios are parsed from decimal text into an integer count of millionths.
public struct Ratio: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// One million millionths: the ratio 1.
    public static let scale: Int64 = 1_000_000

    /// The ratio times one million.
    public let partsPerMillion: Int64

    public init(partsPerMillion: Int64) throws {
        guard (0...Ratio.scale).contains(partsPerMillion) else {
            throw DomainError("a ratio must lie between 0 and 1")
        }
        self.partsPerMillion = partsPerMillion
    }

    /// Parses decimal text such as `0.10`, `.9` or `1` (at most six decimals, no exponent).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts.first.map(String.init) ?? ""
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        guard !(whole.isEmpty && fraction.isEmpty), parts.count == 1 || !fraction.isEmpty || !whole.isEmpty,
            whole.utf8.allSatisfy(Ratio.isDigit), fraction.utf8.allSatisfy(Ratio.isDigit),
            whole.utf8.count <= 7
        else {
            throw DomainError("'\(text)' is not a decimal number such as 0.10")
        }
        guard fraction.utf8.count <= 6 else {
            throw DomainError("'\(text)' has more than six decimals")
        }
        let paddedFraction = fraction + String(repeating: "0", count: 6 - fraction.utf8.count)
        let wholePart = Int64(whole) ?? 0
        let fractionPart = Int64(paddedFraction) ?? 0
        let value = wholePart * Ratio.scale + fractionPart
        guard value <= Ratio.scale else {
            throw DomainError("'\(text)' is greater than 1")
        }
        self.partsPerMillion = value
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// `ceil(n × ratio)`, exactly.
    public func ceilTimes(_ n: Int) -> Int {
        let product = Int64(n) * partsPerMillion
        return Int((product + Ratio.scale - 1) / Ratio.scale)
    }

    /// `floor(n × ratio)`, exactly.
    public func floorTimes(_ n: Int) -> Int {
        Int(Int64(n) * partsPerMillion / Ratio.scale)
    }

    /// The shortest decimal text for this ratio (`0.1`, `0.9`, `1`, `0`).
    public var description: String {
        let whole = partsPerMillion / Ratio.scale
        var fraction = String(partsPerMillion % Ratio.scale)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }

    public static func < (lhs: Ratio, rhs: Ratio) -> Bool { lhs.partsPerMillion < rhs.partsPerMillion }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
