import PostgresBridge
import TrafficPoliceCore

/// The Redis marker the ledger keeps (migration 6), so that a loss of Redis's data while no daemon
/// ran is noticed when one starts (G6).
extension Ledger {
    /// The stamp last recorded for `redis` (`host:port/db`), if any.
    public func redisMarker(for redis: String) async throws -> RedisLoss.Stamp? {
        let rows = try await postgres.query("SELECT marker, run_id FROM redis_markers WHERE redis = $1", [redis])
        guard let row = rows.first else { return nil }
        return RedisLoss.Stamp(marker: try row.decode("marker"), runID: try row.decode("run_id"))
    }

    /// Records `stamp` as what `redis` holds now.
    public func recordRedisMarker(_ stamp: RedisLoss.Stamp, for redis: String) async throws {
        _ = try await postgres.query(
            """
            INSERT INTO redis_markers (redis, marker, run_id) VALUES ($1, $2, $3)
            ON CONFLICT (redis) DO UPDATE SET marker = EXCLUDED.marker, run_id = EXCLUDED.run_id, updated_at = now()
            """, [redis, stamp.marker, stamp.runID])
    }
}
