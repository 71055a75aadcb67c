import Foundation
import PostgresBridge
import TrafficPoliceCore

/// One row of `reconciliations` (ledger migration 4), as read back.
public struct ReconciliationRecord: Sendable, Hashable {
    public var event: EventID
    public var dryRun: Bool
    public var ordersRead: [String: Int]
    public var driftCount: Int
    public var fixed: Int
    public var remaining: Int
    public var unreadable: [String: String]
    public var outcome: String
    public var detail: String
    /// When the run finished (ISO 8601, UTC).
    public var finishedAt: String? = nil
}

extension Ledger {
    /// Records one event's reconciliation (one row per event per run).
    public func recordReconciliation(_ event: EventReconciliation, dryRun: Bool) async throws {
        var read: [String: Int] = [:]
        var drift: [DriftRow] = []
        for platform in event.platforms where platform.unreadable == nil {
            read[platform.platform.rawValue] = platform.ordersRead
            drift += platform.drift.map { DriftRow(platform: platform.platform, drift: $0) }
        }
        let unreadable = Dictionary(uniqueKeysWithValues: event.unreadable.map { ($0.key.rawValue, $0.value) })
        _ = try await postgres.query(
            """
            INSERT INTO reconciliations (event_id, started_at, finished_at, dry_run, orders_read, drift, drift_count,
                fixed, remaining, unreadable, outcome, detail)
            VALUES ($1, to_timestamp($2::double precision), to_timestamp($3::double precision), $4, $5::jsonb,
                $6::jsonb, $7, $8, $9, $10::jsonb, $11, $12)
            """,
            [
                event.event.rawValue, event.startedAt.timeIntervalSince1970,
                max(event.finishedAt, event.startedAt).timeIntervalSince1970, dryRun, try Self.json(read),
                try Self.json(drift), event.driftFound, event.fixed, event.remaining, try Self.json(unreadable),
                event.outcome.rawValue, event.failure ?? "",
            ])
    }

    /// The event's recorded reconciliations, newest first.
    public func reconciliations(_ event: EventID, limit: Int = 20) async throws -> [ReconciliationRecord] {
        let rows = try await postgres.query(
            """
            SELECT dry_run, orders_read::text AS orders_read, drift_count, fixed, remaining,
                unreadable::text AS unreadable, outcome, detail,
                to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at
            FROM reconciliations WHERE event_id = $1 ORDER BY id DESC LIMIT $2
            """, [event.rawValue, limit])
        return try rows.map { row in
            ReconciliationRecord(
                event: event, dryRun: try row.decode("dry_run"),
                ordersRead: try Self.decodeJSON(try row.decode("orders_read")),
                driftCount: try row.decode("drift_count"), fixed: try row.decode("fixed"),
                remaining: try row.decode("remaining"),
                unreadable: try Self.decodeJSON(try row.decode("unreadable")), outcome: try row.decode("outcome"),
                detail: try row.decode("detail"), finishedAt: row["finished_at"])
        }
    }

    /// One drifting order in `reconciliations.drift`: the platform, then the drift's own fields.
    private struct DriftRow: Encodable {
        var platform: Platform
        var drift: OrderDrift

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(platform, forKey: Key("platform"))
            try drift.encode(to: encoder)
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ string: String) { stringValue = string }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func decodeJSON<T: Decodable>(_ text: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw LedgerError.corrupt("reconciliations json \(text): \(error)")
        }
    }
}
