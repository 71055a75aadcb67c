import Foundation
import RedisBridge
import TrafficPoliceCore

/// What the resolver learnt of one Eventbrite order, kept in Redis for whichever worker holds its
/// delivery: the Eventbrite event it belongs to, the tickets it holds (attendees neither cancelled
/// nor refunded) and when it was read.
public struct ResolvedEventbriteOrder: Sendable, Hashable, Codable {
    /// The Eventbrite event id.
    public var eventID: String
    public var quantity: Int
    /// When the order was read, in milliseconds since the Unix epoch.
    public var readAtMilliseconds: Int64

    public init(eventID: String, quantity: Int, readAtMilliseconds: Int64) {
        self.eventID = eventID
        self.quantity = quantity
        self.readAtMilliseconds = readAtMilliseconds
    }

    /// Whether this reading answers a delivery of `action` received at `receivedMilliseconds`: a new
    /// order is answered by any reading; a change (refund, update) only by one made after it arrived.
    public func answers(action: String, receivedMilliseconds: Int64) -> Bool {
        action == "order.placed" || readAtMilliseconds >= receivedMilliseconds
    }
}

/// The resolver's state in Redis, shared by every daemon instance: resolved orders
/// (`tp:{resolve:eventbrite}:order:<id>`, kept a day), each event's read cursor
/// (`…:cursor:<event>`) and the lock that lets one instance read at a time (`…:lock`).
public struct EventbriteOrderCache: Sendable {
    public let redis: RedisClient
    /// How long a resolved order is kept. Default 1 day.
    public var retentionSeconds = 86_400
    static let prefix = "tp:{resolve:eventbrite}:"

    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// The resolved orders among `ids` (unknown and unreadable entries are left out).
    public func orders(_ ids: [String]) async throws -> [String: ResolvedEventbriteOrder] {
        let ids = ids.filter(Self.isKeySafe)
        guard !ids.isEmpty else { return [:] }
        let reply = try await redis.send(["MGET"] + ids.map { Self.prefix + "order:" + $0 })
        var result: [String: ResolvedEventbriteOrder] = [:]
        for (id, value) in zip(ids, reply.array ?? []) {
            guard let text = value.string,
                let order = try? JSONDecoder().decode(ResolvedEventbriteOrder.self, from: Data(text.utf8))
            else { continue }
            result[id] = order
        }
        return result
    }

    /// Stores resolved orders (one pipeline).
    public func store(_ orders: [String: ResolvedEventbriteOrder]) async throws {
        let commands = try orders.filter { Self.isKeySafe($0.key) }.map { id, order in
            ["SET", Self.prefix + "order:" + id, String(decoding: try JSONEncoder().encode(order), as: UTF8.self),
             "EX", String(retentionSeconds)]
        }
        guard !commands.isEmpty else { return }
        for reply in try await redis.pipeline(commands) {
            if case .error(let message) = reply { throw RedisError(kind: .serverError, message: message) }
        }
    }

    /// The read cursor of an Eventbrite event, if one was saved.
    public func cursor(event: String) async throws -> EventbriteOrderCursor? {
        guard Self.isKeySafe(event), let text = try await redis.send("GET", Self.prefix + "cursor:" + event).string
        else { return nil }
        return try? JSONDecoder().decode(EventbriteOrderCursor.self, from: Data(text.utf8))
    }

    public func saveCursor(_ cursor: EventbriteOrderCursor, event: String) async throws {
        guard Self.isKeySafe(event) else { return }
        let text = String(decoding: try JSONEncoder().encode(cursor), as: UTF8.self)
        _ = try await redis.send("SET", Self.prefix + "cursor:" + event, text)
    }

    /// Where the next read of an event's cancelled orders starts (milliseconds since the epoch).
    public func cancellationsSince(event: String) async throws -> Int64? {
        guard Self.isKeySafe(event) else { return nil }
        return try await redis.send("GET", Self.prefix + "inactive-since:" + event).string.flatMap { Int64($0) }
    }

    public func saveCancellationsSince(_ milliseconds: Int64, event: String) async throws {
        guard Self.isKeySafe(event) else { return }
        _ = try await redis.send("SET", Self.prefix + "inactive-since:" + event, String(milliseconds))
    }

    /// Takes or renews the resolver lock for `token` (`SET NX PX`, or `PEXPIRE` when already held by it).
    public func lock(token: String, milliseconds: Int64) async throws -> Bool {
        let reply = try await redis.evalSHA(
            Self.lockScript, keys: [Self.prefix + "lock"], arguments: [token, String(max(1, milliseconds))])
        return reply.integer == 1
    }

    /// Releases the lock if `token` holds it (compare and delete).
    public func unlock(token: String) async throws {
        _ = try await redis.evalSHA(Self.unlockScript, keys: [Self.prefix + "lock"], arguments: [token])
    }

    /// Ids and event ids used in keys: letters, digits, '-', '_' (at most 128).
    static func isKeySafe(_ text: String) -> Bool {
        (1...128).contains(text.utf8.count)
            && text.utf8.allSatisfy { $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0)
                || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    static let lockScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        return 0
        """)

    static let unlockScript = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}
