/// A script whose SHA1 is learned from SCRIPT LOAD on first use and cached.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source of the script.
    public let source: String

    /// Creates a script from its Lua source.
    public init(_ source: String) {
        self.source = source
    }
}
