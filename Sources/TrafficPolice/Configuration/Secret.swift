/// A secret value (token, API key, webhook secret). Printing, interpolating, dumping or
/// reflecting it shows `<redacted>`; only `revealed` gives the text, for the one place that sends it.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret text itself. Never log it.
    public let revealed: String

    public init(_ revealed: String) { self.revealed = revealed }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
