import Foundation
import RedisBridge
import Synchronization
import TrafficPoliceCore

/// The marker the daemon keeps in Redis to notice that Redis lost its data (G6): the I/O around
/// ``RedisLoss``. Every daemon sharing a Redis adopts the marker it finds, so one instance's stamp
/// after a loss is not mistaken for a loss by the others twice.
public final class RedisMarker: Sendable {
    /// The key (outside every event's hash tag: no script touches it).
    public static let key = "traffic-police:marker"

    private let redis: RedisClient
    private let stamp = Mutex<RedisLoss.Stamp?>(nil)

    public init(redis: RedisClient) {
        self.redis = redis
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

    /// Takes the marker Redis holds as this daemon's, writing a new one when there is none; returns it.
    @discardableResult
    public func adopt() async throws -> RedisLoss.Stamp {
        _ = try await redis.send("SET", Self.key, UUID().uuidString, "NX")
        let observed = try await observe()
        guard let marker = observed.marker else { throw RedisMarkerError("the marker key vanished as it was written") }
        let adopted = RedisLoss.Stamp(marker: marker, runID: observed.runID)
        stamp.withLock { $0 = adopted }
        return adopted
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
