import Foundation
import PostgresBridge
import TrafficPoliceCore

/// The rebalancer's half of the ledger: the event's fencing counter, transfers of allocation,
/// published capacities, and the history of them all (`capacity_changes`).
extension Ledger {
    /// The highest fencing token recorded for the event (0 before any).
    public func fence(_ event: EventID) async throws -> Int {
        let rows = try await postgres.query("SELECT fence FROM events WHERE id = $1", [event.rawValue])
        guard let row = rows.first else { throw LedgerError.eventNotFound(event) }
        return try row.decode("fence")
    }

    /// Records that `fence` was granted for the event; the counter never goes back.
    public func recordFence(_ fence: Int, event: EventID) async throws {
        let rows = try await postgres.query(
            "UPDATE events SET fence = greatest(fence, $2), updated_at = now() WHERE id = $1", [event.rawValue, fence])
        guard rows.affectedRows == 1 else { throw LedgerError.eventNotFound(event) }
    }

    /// Records a transfer Redis made: `moved` tickets of allocation from `donor` to `receiver`
    /// under `fence`, with its history row, in one transaction (the fence counter moves up to `fence`).
    ///
    /// Idempotent per fence and pair of platforms: a second record changes nothing and returns
    /// false, as does a `moved` of 0 or less (nothing is written).
    /// - Throws: ``LedgerError/transferExceedsAllocation(_:donor:moved:allocation:)`` when the
    ///   donor's allocation holds less than `moved` (nothing is written), `DomainError` when the
    ///   platforms are the same or `fence` is not from 1.
    @discardableResult
    public func recordTransfer(event: EventID, from donor: Platform, to receiver: Platform, moved: Int, fence: Int)
        async throws -> Bool
    {
        guard moved > 0 else { return false }
        try EventStock.validateTransfer(from: donor, to: receiver, tickets: moved, fence: fence, keepingAtLeast: 0)
        return try await writeChecked(event) { session in
            let inserted = try await session.query(
                """
                INSERT INTO capacity_changes (event_id, platform, kind, tickets, from_platform, fence, confirmed)
                VALUES ($1, $2, 'transfer', $3, $4, $5, true)
                ON CONFLICT (event_id, fence, from_platform, platform) WHERE kind = 'transfer' DO NOTHING
                """, [event.rawValue, receiver.rawValue, moved, donor.rawValue, fence])
            guard inserted.affectedRows == 1 else { return false }
            let taken = try await session.query(
                """
                UPDATE listings SET allocation = allocation - $3
                WHERE event_id = $1 AND platform = $2 AND allocation >= $3
                """, [event.rawValue, donor.rawValue, moved])
            guard taken.affectedRows == 1 else {
                let held = try await session.query(
                    "SELECT allocation FROM listings WHERE event_id = $1 AND platform = $2",
                    [event.rawValue, donor.rawValue])
                guard let row = held.first else { throw LedgerError.eventNotFound(event) }
                throw LedgerError.transferExceedsAllocation(
                    event, donor: donor, moved: moved, allocation: try row.decode("allocation"))
            }
            _ = try await session.query(
                "UPDATE listings SET allocation = allocation + $3 WHERE event_id = $1 AND platform = $2",
                [event.rawValue, receiver.rawValue, moved])
            _ = try await session.query(
                "UPDATE events SET fence = greatest(fence, $2), updated_at = now() WHERE id = $1",
                [event.rawValue, fence])
            return true
        }
    }

    /// Sets the listing's published capacity to what the platform itself showed when the rebalancer
    /// read it back (a capacity set before the daemon looked, or by hand), without a history row:
    /// nothing was published. From then on the ledger is never below what the platform offers.
    public func recordReadBack(event: EventID, platform: Platform, capacity: Int) async throws {
        guard capacity >= 0 else { throw DomainError("a published capacity must be from 0, got \(capacity)") }
        let rows = try await postgres.query(
            "UPDATE listings SET published = $3 WHERE event_id = $1 AND platform = $2",
            [event.rawValue, platform.rawValue, capacity])
        guard rows.affectedRows == 1 else { throw LedgerError.eventNotFound(event) }
    }

    /// Records a capacity published to `platform` (`sold`: what the platform held then), with its
    /// history row; `shrink`, `grow` and `close` also set the listing's published capacity.
    /// - Throws: `DomainError` for a `transfer` (see ``recordTransfer(event:from:to:moved:fence:)``)
    ///   or a negative capacity or sold count.
    public func recordPublished(
        event: EventID, platform: Platform, capacity: Int, sold: Int, kind: CapacityChangeKind, fence: Int,
        confirmed: Bool, detail: String = ""
    ) async throws {
        guard kind != .transfer else { throw DomainError("a transfer is recorded with recordTransfer") }
        guard capacity >= 0, sold >= 0 else {
            throw DomainError("a published capacity and sold count must be from 0, got \(capacity) and \(sold)")
        }
        try await writeChecked(event) { session in
            if kind.publishesCapacity {
                let rows = try await session.query(
                    "UPDATE listings SET published = $3 WHERE event_id = $1 AND platform = $2",
                    [event.rawValue, platform.rawValue, capacity])
                guard rows.affectedRows == 1 else { throw LedgerError.eventNotFound(event) }
            }
            try await Self.appendChange(
                session, event: event, platform: platform, kind: kind, capacity: capacity, sold: sold, fence: fence,
                confirmed: confirmed, detail: detail)
        }
    }

    /// Records a step that changes no listing: red alert (`platform` nil for the whole event),
    /// a capacity that could not be published, a refused step.
    /// - Throws: `DomainError` for a kind that changes a listing (shrink, grow, close, transfer).
    public func recordCapacityEvent(
        event: EventID, platform: Platform?, kind: CapacityChangeKind, fence: Int, detail: String
    ) async throws {
        guard !kind.publishesCapacity, kind != .transfer else {
            throw DomainError("a \(kind.rawValue) changes a listing: record it with recordPublished or recordTransfer")
        }
        try await writeChecked(event) { session in
            try await Self.appendChange(
                session, event: event, platform: platform, kind: kind, capacity: nil, sold: nil, fence: fence,
                confirmed: false, detail: detail)
        }
    }

    /// The event's last `limit` capacity changes, newest last.
    public func capacityChanges(_ event: EventID, limit: Int = 100) async throws -> [CapacityChangeRecord] {
        let rows = try await postgres.query(
            """
            SELECT * FROM (
                SELECT id, platform, kind, tickets, from_platform, capacity, sold, fence, confirmed, detail,
                    extract(epoch FROM created_at)::float8 AS created_epoch
                FROM capacity_changes WHERE event_id = $1 ORDER BY id DESC LIMIT $2
            ) newest ORDER BY id
            """, [event.rawValue, max(limit, 0)])
        return try rows.map(Self.capacityChange)
    }

    // MARK: - Helpers

    private static func appendChange(
        _ session: PostgresSession, event: EventID, platform: Platform?, kind: CapacityChangeKind, capacity: Int?,
        sold: Int?, fence: Int, confirmed: Bool, detail: String
    ) async throws {
        _ = try await session.query(
            """
            INSERT INTO capacity_changes (event_id, platform, kind, capacity, sold, fence, confirmed, detail)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """,
            [event.rawValue, platform?.rawValue, kind.rawValue, capacity, sold, fence, confirmed, detail])
    }

    private static func capacityChange(_ row: PostgresRow) throws -> CapacityChangeRecord {
        func platform(_ column: String) throws -> Platform? {
            guard let text = row[column] else { return nil }
            guard let platform = Platform(rawValue: text) else {
                throw LedgerError.corrupt("capacity change \(column) \(text)")
            }
            return platform
        }
        guard let kind = CapacityChangeKind(rawValue: try row.decode("kind")) else {
            throw LedgerError.corrupt("capacity change kind \(row["kind"] ?? "NULL")")
        }
        return CapacityChangeRecord(
            id: try row.decode("id"), platform: try platform("platform"), kind: kind,
            tickets: try row.decodeIfPresent("tickets"), fromPlatform: try platform("from_platform"),
            capacity: try row.decodeIfPresent("capacity"), sold: try row.decodeIfPresent("sold"),
            fence: try row.decode("fence"), confirmed: try row.decode("confirmed"), detail: try row.decode("detail"),
            createdAt: Date(timeIntervalSince1970: try row.decode("created_epoch")))
    }
}
