import Foundation
import RedisBridge
import Synchronization
import TrafficPoliceCore

/// The marker the daemon keeps in Redis to notice that Redis lost its data (G6): the I/O around
/// ``RedisLoss``. Every daemon sharing a Redis adopts the marker it finds, so one instance's stamp
/// after a loss is not mistaken for a loss by the others twice. With a ``Memory`` (the ledger) the
/// stamp outlives the daemon, so a loss while no daemon ran is noticed at the next start.
public final class RedisMarker: Sendable {
    /// Where the stamp is kept outside Redis and the daemon (the ledger's `redis_markers`).
    public struct Memory: Sendable {
        /// The stamp last stored, if any.
        public var load: @Sendable () async throws -> RedisLoss.Stamp?
        /// Stores the stamp Redis holds now.
        public var store: @Sendable (RedisLoss.Stamp) async throws -> Void

        public init(
            load: @escaping @Sendable () async throws -> RedisLoss.Stamp?,
            store: @escaping @Sendable (RedisLoss.Stamp) async throws -> Void
        ) {
            self.load = load
            self.store = store
        }

        /// The ledger's row for `redis` (``RedisMarker/identity(of:)``).
        public static func ledger(_ ledger: Ledger, redis: String) -> Memory {
            Memory(
                load: { try await ledger.redisMarker(for: redis) },
                store: { try await ledger.recordRedisMarker($0, for: redis) })
        }
    }

    /// The memory could not be read or written (the ledger is down, or not migrated).
    public struct MemoryError: Error, CustomStringConvertible {
        public let underlying: any Error
        public var description: String { "the ledger's Redis marker: \(underlying)" }
    }

    /// The key (outside every event's hash tag: no script touches it).
    public static let key = "traffic-police:marker"

    private let redis: RedisClient
    private let memory: Memory?
    private let stamp = Mutex<RedisLoss.Stamp?>(nil)
    /// What the memory holds, as far as this daemon knows (nil: unknown or nothing).
    private let stored = Mutex<RedisLoss.Stamp?>(nil)

    public init(redis: RedisClient, memory: Memory? = nil) {
        self.redis = redis
        self.memory = memory
    }

    /// How a Redis server and database are named in the memory: `host:port/db`, or `unix:PATH/db`.
    public static func identity(of configuration: RedisConfiguration) -> String {
        if let path = configuration.unixSocketPath { return "unix:\(path)/\(configuration.database)" }
        return "\(configuration.host):\(configuration.port)/\(configuration.database)"
    }

    /// What this daemon remembers (nil before the first ``adopt()``).
    public var current: RedisLoss.Stamp? { stamp.withLock { $0 } }

    /// Reads what Redis shows now.
    public func observe() async throws -> RedisLoss.Observation {
        let replies = try await redis.pipeline([["GET", Self.key], ["INFO", "server"], ["INFO", "persistence"]])
        guard replies.count == 3 else { throw RedisMarkerError("unexpected reply to the marker check") }
        for reply in replies { if case .error(let message) = reply { throw RedisMarkerError(message) } }
        let server = Self.fields(replies[1].string ?? "")
        let persistence = Self.fields(replies[2].string ?? "")
        guard let runID = server["run_id"] else { throw RedisMarkerError("INFO server has no run_id") }
        return RedisLoss.Observation(
            marker: replies[0].string, runID: runID, appendOnly: persistence["aof_enabled"] == "1")
    }

    /// Compares Redis with what this daemon remembers.
    public func check() async throws -> RedisLoss.Verdict {
        RedisLoss.judge(try await observe(), against: current)
    }

    /// At start, before anything is adopted: judges what Redis shows against the stamp the memory
    /// kept from the last daemon. When that says lost, the remembered stamp becomes this daemon's, so
    /// that ``check()`` says lost too until the recovery adopts a new one. `.intact` without a memory
    /// or a stored stamp. Throws ``MemoryError`` when the memory cannot be read.
    public func recall() async throws -> RedisLoss.Verdict {
        guard let memory else { return .intact }
        let remembered: RedisLoss.Stamp?
        do {
            remembered = try await memory.load()
        } catch {
            throw MemoryError(underlying: error)
        }
        stored.withLock { $0 = remembered }
        let verdict = RedisLoss.judge(try await observe(), against: remembered)
        if case .lost = verdict { stamp.withLock { $0 = remembered } }
        return verdict
    }

    /// Takes the marker Redis holds as this daemon's, writing a new one when there is none; returns it.
    /// ``persist()`` then stores it in the memory.
    @discardableResult
    public func adopt() async throws -> RedisLoss.Stamp {
        _ = try await redis.send("SET", Self.key, UUID().uuidString, "NX")
        let observed = try await observe()
        guard let marker = observed.marker else { throw RedisMarkerError("the marker key vanished as it was written") }
        let adopted = RedisLoss.Stamp(marker: marker, runID: observed.runID)
        stamp.withLock { $0 = adopted }
        return adopted
    }

    /// Stores this daemon's stamp in the memory unless it is what the memory holds already (no
    /// query then); throws ``MemoryError`` when it cannot be written (tried again at the next call).
    public func persist() async throws {
        guard let memory, let current, stored.withLock({ $0 }) != current else { return }
        do {
            try await memory.store(current)
        } catch {
            throw MemoryError(underlying: error)
        }
        stored.withLock { $0 = current }
    }

    /// `key:value` lines of an INFO reply.
    static func fields(_ info: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in info.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
                .trimmingCharacters(in: .whitespaces)
        }
        return fields
    }
}

/// The marker could not be read.
public struct RedisMarkerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
