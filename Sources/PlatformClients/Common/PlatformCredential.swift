/// A platform token or API key. Printing, interpolating, dumping or reflecting it shows
/// `<redacted>`; only `revealed` gives the text, which the request builder puts in one header.
public struct PlatformCredential: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The token or key itself. Never log it.
    public let revealed: String

    /// Wraps a token or key.
    public init(_ revealed: String) { self.revealed = revealed }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "PlatformCredential(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
