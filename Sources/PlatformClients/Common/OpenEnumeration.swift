/// A string-valued enumeration that keeps values it does not know instead of refusing them
/// (Luma's `approval_status`, Meetup's `RsvpStatus`): coded as the bare string.
public protocol OpenEnumeration: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible
where RawValue == String {
    init(rawValue: String)
}

extension OpenEnumeration {
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
}

extension KeyedDecodingContainer {
    /// The object under `key` when there is one, else this container: reads both
    /// `{"guest": {…}}` and `{…}`.
    func unwrapping(_ key: Key) throws -> KeyedDecodingContainer<Key> {
        contains(key) ? try nestedContainer(keyedBy: Key.self, forKey: key) : self
    }
}
