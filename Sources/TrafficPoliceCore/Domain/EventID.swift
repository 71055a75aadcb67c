/// An event's identifier: 1–64 characters of `A–Z a–z 0–9 _ - .`.
///
/// It appears inside Redis hash tags (`event:{ID}:stock`), journald fields and file names,
/// so braces, colons, spaces and other punctuation are refused.
public struct EventID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) throws {
        guard !rawValue.isEmpty, rawValue.utf8.count <= 64 else {
            throw DomainError("event id must be 1 to 64 characters, got \(rawValue.utf8.count)")
        }
        guard rawValue.utf8.allSatisfy(EventID.isAllowed) else {
            throw DomainError("event id '\(rawValue)' may only contain letters, digits, '_', '-' and '.'")
        }
        self.rawValue = rawValue
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(raw)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: EventID, rhs: EventID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}
