/// A configuration problem: names the key (as in the TOML file, e.g. `redis.url`) and why.
/// The CLI prints it on one line and exits 78 (EX_CONFIG).
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "config key \(key): \(reason)" }
}
