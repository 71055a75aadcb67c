import PostgresBridge
import TrafficPoliceCore

/// The operator's fail-safe switch and the daemon instances' reports (migration 5): kept in the
/// ledger, not in Redis, since Redis may be what is down. Times are read as ISO 8601 in UTC and
/// ages by the ledger's own clock, so that instances on several hosts compare.
extension Ledger {
    /// Turns the switch on or off, recording who and why; returns the switch as it now stands.
    @discardableResult
    public func setFailsafeSwitch(on: Bool, by: String, reason: String?) async throws -> FailsafeSwitch {
        let rows = try await postgres.query(
            """
            INSERT INTO failsafe_switch (id, is_on, changed_by, reason, changed_at) VALUES (true, $1, $2, $3, now())
            ON CONFLICT (id) DO UPDATE SET is_on = EXCLUDED.is_on, changed_by = EXCLUDED.changed_by,
                reason = EXCLUDED.reason, changed_at = EXCLUDED.changed_at
            RETURNING \(Self.switchColumns)
            """, [on, by, reason])
        guard let row = rows.first else { throw LedgerError.corrupt("the fail-safe switch was not written") }
        return try Self.failsafeSwitch(row)
    }

    /// The switch as it stands (off, never changed, when its row is missing).
    public func failsafeSwitch() async throws -> FailsafeSwitch {
        let rows = try await postgres.query("SELECT \(Self.switchColumns) FROM failsafe_switch WHERE id")
        return try rows.first.map(Self.failsafeSwitch) ?? FailsafeSwitch(on: false)
    }

    /// Writes this instance's row (created on its first report); `state_since` moves only when the
    /// state does.
    public func reportInstance(_ report: DaemonInstanceReport) async throws {
        _ = try await postgres.query(
            """
            INSERT INTO daemon_instances (id, hostname, pid, failsafe, state, status) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, pid = EXCLUDED.pid,
                failsafe = EXCLUDED.failsafe, state = EXCLUDED.state, status = EXCLUDED.status,
                state_since = CASE WHEN daemon_instances.state = EXCLUDED.state
                    THEN daemon_instances.state_since ELSE now() END,
                updated_at = now()
            """, [report.id, report.hostname, report.pid, report.failsafe, report.state, report.status])
    }

    /// The instances that reported within `seenWithin`, by id.
    public func instances(seenWithin: Duration) async throws -> [DaemonInstanceReport] {
        let (seconds, attoseconds) = seenWithin.components
        let window = Double(seconds) + Double(attoseconds) / 1e18
        return try await postgres.query(
            """
            SELECT id, hostname, pid, failsafe, state, status, \(Self.iso("started_at")) AS started_at,
                \(Self.iso("state_since")) AS state_since, \(Self.iso("updated_at")) AS updated_at,
                (extract(epoch FROM now() - updated_at) * 1000)::bigint AS age_ms
            FROM daemon_instances WHERE updated_at >= now() - make_interval(secs => $1)
            ORDER BY id
            """, [window]
        ).map { row in
            var report = DaemonInstanceReport(
                id: try row.decode("id"), hostname: try row.decode("hostname"), pid: try row.decode("pid"),
                failsafe: try row.decode("failsafe"), state: try row.decode("state"), status: try row.decode("status"))
            report.startedAt = row["started_at"]
            report.stateSince = row["state_since"]
            report.updatedAt = row["updated_at"]
            report.ageMs = try row.decodeIfPresent("age_ms")
            return report
        }
    }

    /// Removes an instance's row (on its graceful shutdown).
    public func removeInstance(id: String) async throws {
        _ = try await postgres.query("DELETE FROM daemon_instances WHERE id = $1", [id])
    }

    /// The switch and the instances seen within `seenWithin`: whether sales are closed anywhere.
    public func failsafeOverview(seenWithin: Duration = FailsafeOverview.freshness) async throws -> FailsafeOverview {
        FailsafeOverview(failsafeSwitch: try await failsafeSwitch(), instances: try await instances(seenWithin: seenWithin))
    }

    private static let switchColumns = "is_on, changed_by, reason, \(iso("changed_at")) AS changed_at"

    /// A timestamptz column as ISO 8601 in UTC, milliseconds included.
    private static func iso(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    }

    private static func failsafeSwitch(_ row: PostgresRow) throws -> FailsafeSwitch {
        FailsafeSwitch(
            on: try row.decode("is_on"), changedBy: row["changed_by"], reason: row["reason"], changedAt: row["changed_at"])
    }
}
