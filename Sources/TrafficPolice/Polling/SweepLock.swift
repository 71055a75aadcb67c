import Foundation
import RedisBridge

/// A lock in Redis that one instance holds while it sweeps an event: `SET key token NX PX ttl` with a
/// random token, renewed and released only by its holder (compare-and-expire, compare-and-delete),
/// so a lock that lapsed and was taken by another instance is never extended or freed by this one.
struct SweepLock: Sendable {
    let redis: RedisClient
    let key: String
    let ttl: Duration
    let token = UUID().uuidString

    private var ttlMilliseconds: String {
        String(max(1, ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000))
    }

    /// Takes the lock; false when another holder has it.
    func acquire() async throws -> Bool {
        let reply = try await redis.send(["SET", key, token, "NX", "PX", ttlMilliseconds])
        return !reply.isNull
    }

    /// Extends the lock by `ttl`; false when it is no longer this holder's.
    func renew() async throws -> Bool {
        try await redis.evalSHA(Self.renewScript, keys: [key], arguments: [token, ttlMilliseconds]).integer == 1
    }

    /// Frees the lock if it is still this holder's. Best effort: a lock not freed lapses after `ttl`.
    func release() async {
        _ = try? await redis.evalSHA(Self.releaseScript, keys: [key], arguments: [token])
    }

    static let renewScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """)

    static let releaseScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}
