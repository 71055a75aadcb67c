import TrafficPoliceCore

/// The Redis keys of one platform token's bucket: `tp:{throttle:<platform>}:<account>:tat` and `…:paused`.
///
/// The hash tag keeps a platform's keys in one cluster slot. `account` names the token (a label or
/// a digest of it, never the token itself), so two tokens of one platform have separate buckets.
public struct ThrottleKeys: Sendable, Hashable {
    public let tat: String
    public let paused: String

    public init(platform: Platform, account: String) throws {
        guard (1...64).contains(account.utf8.count),
            account.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x2E || $0 == 0x5F || (0x30...0x39).contains($0)
                || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else {
            throw DomainError("throttle account '\(account)' must be 1 to 64 of letters, digits, '_', '-', '.'")
        }
        let prefix = "tp:{throttle:\(platform.rawValue)}:\(account)"
        tat = prefix + ":tat"
        paused = prefix + ":paused"
    }

    public var all: [String] { [tat, paused] }
}
