/// A value sent as a text-format parameter.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format.
    var postgresText: String { get }
}

/// A value read from a text-format column.
public protocol PostgresDecodable: Sendable {
    /// Parses the value from PostgreSQL's text output format; throws `.decodingFailed` if it cannot.
    init(postgresText: String) throws
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { self }
    public init(postgresText: String) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws { self = try parseInteger(postgresText) }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws { self = try parseInteger(postgresText) }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws { self = try parseInteger(postgresText) }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    /// "true" or "false".
    public var postgresText: String { self ? "true" : "false" }

    /// Accepts PostgreSQL's output "t"/"f" (and "true"/"false").
    public init(postgresText: String) throws {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresError.unparsable(postgresText, as: Bool.self)
        }
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    /// Shortest round-tripping decimal form; "Infinity", "-Infinity" and "NaN" for the special values.
    public var postgresText: String {
        if self.isNaN { return "NaN" }
        if self.isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return String(self)
    }

    public init(postgresText: String) throws {
        switch postgresText {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(postgresText) else {
                throw PostgresError.unparsable(postgresText, as: Double.self)
            }
            self = value
        }
    }
}

private func parseInteger<T: FixedWidthInteger>(_ text: String) throws -> T {
    guard let value = T(text, radix: 10) else {
        throw PostgresError.unparsable(text, as: T.self)
    }
    return value
}

extension PostgresError {
    /// A `.decodingFailed` error for text that is not a valid `type` (long texts are shortened).
    static func unparsable(_ text: String, as type: Any.Type) -> PostgresError {
        let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
        return PostgresError(kind: .decodingFailed, message: "cannot decode \"\(shown)\" as \(type)")
    }
}
