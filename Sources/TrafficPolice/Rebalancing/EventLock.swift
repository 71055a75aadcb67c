import RedisBridge
import TrafficPoliceCore

/// A per-event lock in Redis (`EventKeys.rebalanceLock`): at most one rebalancer works on an
/// event at a time, for as long as its lease lives.
///
/// A lease is a random token stored with a TTL; only the holder of the token renews or releases
/// it (compare-and-set in one Lua step), so a rebalancer whose lease expired cannot free or extend
/// the next holder's. The lock alone is not enough: a transfer also carries the fencing token
/// granted with it, which the transfer script checks. Redis failures throw `RedisError`.
public struct EventLock: Sendable {
    /// A held lock: the event, the holder's token and how long each renewal keeps it.
    public struct Lease: Sendable, Hashable {
        public var event: EventID
        public var token: String
        public var ttl: Duration

        public init(event: EventID, token: String, ttl: Duration) {
            self.event = event
            self.token = token
            self.ttl = ttl
        }
    }

    public let redis: RedisClient

    public init(redis: RedisClient) { self.redis = redis }

    /// Takes the event's lock for `ttl` (at least 1 ms), or nil when someone else holds it.
    public func acquire(_ event: EventID, ttl: Duration) async throws -> Lease? {
        let lease = Lease(event: event, token: Self.newToken(), ttl: ttl)
        let reply = try await redis.send([
            "SET", EventKeys(event).rebalanceLock, lease.token, "NX", "PX", String(try Self.milliseconds(ttl)),
        ])
        return reply.isNull ? nil : lease
    }

    /// Extends the lease by its ttl from now; false (and nothing changes) when it is no longer held.
    public func renew(_ lease: Lease) async throws -> Bool {
        try await run(Self.renewScript, lease, [lease.token, String(try Self.milliseconds(lease.ttl))])
    }

    /// Frees the lock; false (and nothing changes) when the lease is no longer held.
    @discardableResult
    public func release(_ lease: Lease) async throws -> Bool {
        try await run(Self.releaseScript, lease, [lease.token])
    }

    // MARK: - Scripts

    /// ARGV: token, ttl in ms. Returns 1 when the key held the token (and now lives ttl more), else 0.
    static let renewScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """)

    /// ARGV: token. Returns 1 when the key held the token (and is now deleted), else 0.
    static let releaseScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('DEL', KEYS[1])
          return 1
        end
        return 0
        """)

    private func run(_ script: RedisScript, _ lease: Lease, _ arguments: [String]) async throws -> Bool {
        let reply = try await redis.evalSHA(script, keys: [EventKeys(lease.event).rebalanceLock], arguments: arguments)
        guard let held = reply.integer else {
            throw RedisError(kind: .protocolError, message: "the lock script returned \(reply) instead of 0 or 1")
        }
        return held == 1
    }

    /// 16 random bytes in lowercase hex.
    private static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }.joined()
    }

    private static func milliseconds(_ ttl: Duration) throws -> Int64 {
        let (seconds, attoseconds) = ttl.components
        guard seconds < Int64.max / 1000 else { throw DomainError("a lock's ttl is too long: \(ttl)") }
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        guard milliseconds >= 1 else { throw DomainError("a lock's ttl must be at least 1 ms, got \(ttl)") }
        return milliseconds
    }
}
