import PostgresBridge
import TrafficPoliceCore

/// The ledger in PostgreSQL: the source of truth that Redis is rebuilt from.
///
/// Every write is idempotent: an order or sale recorded twice changes nothing the second time,
/// and the event's sold count moves in the same transaction as the row that justifies it.
public struct Ledger: Sendable {
    public let postgres: PostgresClient

    public init(postgres: PostgresClient) { self.postgres = postgres }

    /// Applies the schema migrations; returns the versions applied now.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await PostgresMigrator(client: postgres).apply(LedgerMigrations.all)
    }

    // MARK: - Events and listings

    /// Creates an event with its three listings (unlinked, allocations from `allocations`).
    public func createEvent(_ event: EventRecord, allocations: [Platform: Int]) async throws {
        do {
            try await postgres.withTransaction { session in
                _ = try await session.query(
                    """
                    INSERT INTO events (id, name, capacity, safety_stock_ppm, soft_cap_ppm, mode)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    """,
                    [
                        event.id.rawValue, event.name, event.policy.capacity,
                        Int(event.policy.safetyStockRatio.partsPerMillion),
                        Int(event.policy.softCapRatio.partsPerMillion), event.mode.rawValue,
                    ])
                for platform in Platform.allCases {
                    _ = try await session.query(
                        "INSERT INTO listings (event_id, platform, allocation) VALUES ($1, $2, $3)",
                        [event.id.rawValue, platform.rawValue, allocations[platform] ?? 0])
                }
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            throw LedgerError.eventExists(event.id)
        }
    }

    public func event(_ id: EventID) async throws -> EventRecord? {
        let rows = try await postgres.query(
            "SELECT id, name, capacity, safety_stock_ppm, soft_cap_ppm, mode, sold FROM events WHERE id = $1",
            [id.rawValue])
        return try rows.first.map(Self.eventRecord)
    }

    public func events() async throws -> [EventRecord] {
        try await postgres.query(
            "SELECT id, name, capacity, safety_stock_ppm, soft_cap_ppm, mode, sold FROM events ORDER BY id"
        ).map(Self.eventRecord)
    }

    public func listings(_ id: EventID) async throws -> [Platform: Listing] {
        let rows = try await postgres.query(
            """
            SELECT platform, allocation, published, platform_event_id, ticket_class_id
            FROM listings WHERE event_id = $1
            """, [id.rawValue])
        var result: [Platform: Listing] = [:]
        for row in rows {
            let listing = try Self.listing(row)
            result[listing.platform] = listing
        }
        return result
    }

    /// Every event's listings, in one query (the events list).
    public func allListings() async throws -> [EventID: [Platform: Listing]] {
        let rows = try await postgres.query(
            "SELECT event_id, platform, allocation, published, platform_event_id, ticket_class_id FROM listings")
        var result: [EventID: [Platform: Listing]] = [:]
        for row in rows {
            let listing = try Self.listing(row)
            result[try EventID(try row.decode("event_id", as: String.self)), default: [:]][listing.platform] = listing
        }
        return result
    }

    private static func listing(_ row: PostgresRow) throws -> Listing {
        guard let platform = Platform(rawValue: try row.decode("platform", as: String.self)) else {
            throw LedgerError.corrupt("listing platform \(row["platform"] ?? "NULL")")
        }
        return Listing(
            platform: platform, allocation: try row.decode("allocation"), published: try row.decode("published"),
            platformEventID: row["platform_event_id"], ticketClassID: row["ticket_class_id"])
    }

    /// The event whose listing on `platform` is linked to the platform's event `platformEventID`, if any.
    public func event(linkedTo platformEventID: String, on platform: Platform) async throws -> EventID? {
        let rows = try await postgres.query(
            "SELECT event_id FROM listings WHERE platform = $1 AND platform_event_id = $2",
            [platform.rawValue, platformEventID])
        return try rows.first.map { try EventID(try $0.decode("event_id", as: String.self)) }
    }

    /// One platform order of the event as recorded (tombstones included), or nil when never recorded.
    public func order(_ id: EventID, platform: Platform, orderID: String) async throws -> OrderRecord? {
        let rows = try await postgres.query(
            """
            SELECT platform, platform_order_id, \(Self.orderColumns)
            FROM orders WHERE event_id = $1 AND platform = $2 AND platform_order_id = $3
            """, [id.rawValue, platform.rawValue, orderID])
        return try rows.first.map { try Self.orderRecord($0, event: id) }
    }

    /// Links the event's listing on `platform` to the platform's own event (and ticket class).
    public func link(_ id: EventID, platform: Platform, platformEventID: String, ticketClassID: String?) async throws {
        let rows: PostgresRows
        do {
            rows = try await postgres.query(
                """
                UPDATE listings SET platform_event_id = $3, ticket_class_id = $4, linked_at = now()
                WHERE event_id = $1 AND platform = $2
                """, [id.rawValue, platform.rawValue, platformEventID, ticketClassID])
        } catch let error as PostgresError where error.isUniqueViolation {
            let owner = try await postgres.query(
                "SELECT event_id FROM listings WHERE platform = $1 AND platform_event_id = $2",
                [platform.rawValue, platformEventID])
            let other = try owner.first.map { try EventID(try $0.decode("event_id", as: String.self)) } ?? id
            throw LedgerError.platformEventTaken(platform: platform, platformEventID: platformEventID, by: other)
        }
        guard rows.affectedRows == 1 else { throw LedgerError.eventNotFound(id) }
    }

    // MARK: - Orders and sales

    /// Records the reservation step's outcome for one platform order, with the quantity the
    /// step decided on (`result.quantity`). Idempotent: a second record of the same platform
    /// order changes nothing and returns false.
    @discardableResult
    public func recordReservation(
        event: EventID, platform: Platform, orderID: String, result: ReservationResult, source: OrderSource
    ) async throws -> Bool {
        let quantity = result.quantity
        return try await writeChecked(event) { session in
            let inserted = try await session.query(
                """
                INSERT INTO orders (platform, platform_order_id, event_id, quantity, outcome, excess, source)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (event_id, platform, platform_order_id) DO NOTHING
                """,
                [
                    platform.rawValue, orderID, event.rawValue, quantity, result.outcome.rawValue, result.excess,
                    source.rawValue,
                ])
            guard inserted.affectedRows == 1 else { return false }
            if result.outcome.holdsTickets {
                _ = try await session.query(
                    "UPDATE events SET sold = sold + $2, updated_at = now() WHERE id = $1", [event.rawValue, quantity])
            }
            if result.excess > 0 {
                _ = try await session.query(
                    "UPDATE listings SET allocation = allocation + $3 WHERE event_id = $1 AND platform = $2",
                    [event.rawValue, platform.rawValue, result.excess])
            }
            if result.enteredRedAlert {
                try await Self.closePlatforms(event, mode: .redAlert, session: session)
            }
            return true
        }
    }

    /// Records a release (refund or cancellation). Idempotent; a release of an order never seen
    /// leaves a tombstone so that the order is not reserved later.
    @discardableResult
    public func recordRelease(event: EventID, platform: Platform, orderID: String, source: OrderSource) async throws
        -> ReleaseResult
    {
        try await writeChecked(event) { session in
            if let result = try await Self.releaseExisting(event, platform, orderID, session: session) {
                return result
            }
            let tombstone = try await session.query(
                """
                INSERT INTO orders (platform, platform_order_id, event_id, quantity, outcome, source, released_at)
                VALUES ($1, $2, $3, 0, 'overbooked', $4, now())
                ON CONFLICT (event_id, platform, platform_order_id) DO NOTHING
                """, [platform.rawValue, orderID, event.rawValue, source.rawValue])
            if tombstone.affectedRows == 1 { return .unknownOrder }
            // The order's row was committed by a concurrent reservation after the UPDATE looked:
            // release it now (READ COMMITTED: this statement sees it), or it was released already.
            return try await Self.releaseExisting(event, platform, orderID, session: session) ?? .alreadyReleased
        }
    }

    /// The ledger's half of a decrease, written before Redis frees the tickets (as a release is):
    /// lowers an order that holds more than `quantity` to it (0 releases it) and gives the tickets
    /// back, unless `version` is older than the order's. Returns whether it lowered anything.
    /// The amend step's own record (``recordAmendment``) follows and settles the row either way.
    @discardableResult
    public func lowerOrder(event: EventID, platform: Platform, orderID: String, to quantity: Int, version: Int64)
        async throws -> Bool
    {
        try await writeChecked(event) { session in
            let rows = try await session.query(
                """
                SELECT platform, platform_order_id, \(Self.orderColumns) FROM orders
                WHERE event_id = $1 AND platform = $2 AND platform_order_id = $3 FOR UPDATE
                """, [event.rawValue, platform.rawValue, orderID])
            guard let row = rows.first else { return false }
            let order = try Self.orderRecord(row, event: event)
            guard order.heldQuantity > quantity, version >= order.version else { return false }
            _ = try await session.query(
                """
                UPDATE orders SET quantity = CASE WHEN $4 = 0 THEN quantity ELSE $4 END,
                    released_at = CASE WHEN $4 = 0 THEN now() ELSE released_at END
                WHERE event_id = $1 AND platform = $2 AND platform_order_id = $3
                """, [event.rawValue, platform.rawValue, orderID, quantity])
            try await Self.giveBack(order.heldQuantity - quantity, event, platform, session: session)
            return true
        }
    }

    /// Records an order as the amend step left it in Redis (`order`, with its revision): the row
    /// takes the order's state unless the ledger already holds a later revision, `events.sold`
    /// moves by the change of tickets held, the allocation grows by what was absorbed (and shrinks
    /// with a decrease in red alert and when closed, as in Redis), and `order_changes` keeps the change.
    /// Idempotent: the same revision recorded twice changes nothing. Returns whether it changed the row.
    @discardableResult
    public func recordAmendment(
        event: EventID, platform: Platform, order: OrderRecord, change: String, enteredRedAlert: Bool,
        source: OrderSource
    ) async throws -> Bool {
        try await writeChecked(event) { session in
            let key = [event.rawValue, platform.rawValue, order.orderID]
            var prior: OrderRecord?
            for _ in 0..<2 {
                let rows = try await session.query(
                    """
                    SELECT platform, platform_order_id, \(Self.orderColumns) FROM orders
                    WHERE event_id = $1 AND platform = $2 AND platform_order_id = $3 FOR UPDATE
                    """, key)
                if let row = rows.first {
                    prior = try Self.orderRecord(row, event: event)
                    break
                }
                let inserted = try await session.query(
                    """
                    INSERT INTO orders (event_id, platform, platform_order_id, quantity, outcome, excess, source,
                        released_at, target, version, revision)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END, $9, $10, $11)
                    ON CONFLICT (event_id, platform, platform_order_id) DO NOTHING
                    """,
                    key + [
                        order.quantity, order.outcome.rawValue, order.excess, source.rawValue, order.released,
                        order.target, order.version, order.revision,
                    ])
                if inserted.affectedRows == 1 { break }
                // A concurrent write committed the row after the SELECT looked: lock and read it now.
            }
            if let prior {
                guard prior.revision <= order.revision, prior != order else { return false }
                _ = try await session.query(
                    """
                    UPDATE orders SET quantity = $4, outcome = $5, excess = $6,
                        released_at = CASE WHEN $7 THEN coalesce(released_at, now()) END,
                        target = $8, version = $9, revision = $10
                    WHERE event_id = $1 AND platform = $2 AND platform_order_id = $3
                    """,
                    key + [
                        order.quantity, order.outcome.rawValue, order.excess, order.released, order.target,
                        order.version, order.revision,
                    ])
            }
            let before = prior?.heldQuantity ?? 0
            let after = order.heldQuantity
            if after > before {
                _ = try await session.query(
                    "UPDATE events SET sold = sold + $2, updated_at = now() WHERE id = $1", [event.rawValue, after - before])
            } else {
                try await Self.giveBack(before - after, event, platform, session: session)
            }
            let grown = order.excess - (prior?.excess ?? 0)
            if grown > 0 {
                _ = try await session.query(
                    "UPDATE listings SET allocation = allocation + $3 WHERE event_id = $1 AND platform = $2",
                    [event.rawValue, platform.rawValue, grown])
            }
            if enteredRedAlert {
                try await Self.closePlatforms(event, mode: .redAlert, session: session)
            }
            _ = try await session.query(
                """
                INSERT INTO order_changes (event_id, platform, platform_order_id, change, from_quantity, to_quantity,
                    target, version, revision, source)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                """, key + [change, before, after, order.target, order.version, order.revision, source.rawValue])
            return true
        }
    }

    /// The amendments the ledger applied to one order, oldest first: (change, from, to) per row.
    public func orderChanges(_ id: EventID, platform: Platform, orderID: String) async throws
        -> [(change: String, from: Int, to: Int)]
    {
        try await postgres.query(
            """
            SELECT change, from_quantity, to_quantity FROM order_changes
            WHERE event_id = $1 AND platform = $2 AND platform_order_id = $3 ORDER BY id
            """, [id.rawValue, platform.rawValue, orderID]
        ).map { (try $0.decode("change"), try $0.decode("from_quantity"), try $0.decode("to_quantity")) }
    }

    /// Records a box-office sale with the approving operator's name. Idempotent per sale id.
    @discardableResult
    public func recordBoxOfficeSale(
        event: EventID, saleID: String, quantity: Int, approvedBy: String, enteredRedAlert: Bool
    ) async throws -> Bool {
        try await writeChecked(event) { session in
            let inserted = try await session.query(
                """
                INSERT INTO box_office_sales (id, event_id, quantity, approved_by) VALUES ($1, $2, $3, $4)
                ON CONFLICT (event_id, id) DO NOTHING
                """, [saleID, event.rawValue, quantity, approvedBy])
            guard inserted.affectedRows == 1 else { return false }
            _ = try await session.query(
                "UPDATE events SET sold = sold + $2, updated_at = now() WHERE id = $1", [event.rawValue, quantity])
            if enteredRedAlert {
                try await Self.closePlatforms(event, mode: .redAlert, session: session)
            }
            return true
        }
    }

    /// Sets the event's mode; `red_alert` and `closed` also set every allocation to what its platform holds.
    public func setMode(_ mode: EventMode, event: EventID) async throws {
        try await postgres.withTransaction { session in
            let rows = try await session.query(
                "UPDATE events SET mode = $2, updated_at = now() WHERE id = $1", [event.rawValue, mode.rawValue])
            guard rows.affectedRows == 1 else { throw LedgerError.eventNotFound(event) }
            if mode == .redAlert || mode == .closed {
                try await Self.closePlatforms(event, mode: mode, session: session)
            }
        }
    }

    /// Every order and box-office sale of the event, tombstones included.
    public func orders(_ id: EventID) async throws -> [OrderRecord] {
        var records: [OrderRecord] = []
        for row in try await postgres.query(
            "SELECT platform, platform_order_id, \(Self.orderColumns) FROM orders WHERE event_id = $1", [id.rawValue])
        {
            records.append(try Self.orderRecord(row, event: id))
        }
        for row in try await postgres.query(
            "SELECT id, quantity FROM box_office_sales WHERE event_id = $1", [id.rawValue])
        {
            records.append(
                OrderRecord(
                    channel: .boxOffice, orderID: try row.decode("id"), quantity: try row.decode("quantity"),
                    outcome: .accepted))
        }
        return records
    }

    /// The event's absorbed and overbooked platform orders (tombstones left out), newest first,
    /// at most `limit`: what the dashboard lists for the operator.
    public func flaggedOrders(_ id: EventID, limit: Int = 50) async throws -> [OrderRecord] {
        try await postgres.query(
            """
            SELECT platform, platform_order_id, \(Self.orderColumns) FROM orders
            WHERE event_id = $1 AND outcome IN ('absorbed', 'overbooked') AND quantity > 0
            ORDER BY created_at DESC, platform_order_id LIMIT $2
            """, [id.rawValue, max(limit, 0)]
        ).map { try Self.orderRecord($0, event: id) }
    }

    /// Tickets held now per channel (`eventbrite`, …, `box_office`), by the second they were sold,
    /// oldest first, at most the last `limit` seconds that saw a sale: the dashboard's sales chart.
    public func salesTimeline(_ id: EventID, limit: Int = 2000) async throws -> [SalesPoint] {
        try await postgres.query(
            """
            SELECT channel, at, tickets FROM (
                SELECT channel, extract(epoch FROM second)::float8 AS at, sum(quantity)::int AS tickets
                FROM (
                    SELECT platform AS channel, date_trunc('second', created_at) AS second, quantity FROM orders
                    WHERE event_id = $1 AND outcome <> 'overbooked' AND released_at IS NULL AND quantity > 0
                    UNION ALL
                    SELECT 'box_office', date_trunc('second', created_at), quantity FROM box_office_sales
                    WHERE event_id = $1
                ) sales GROUP BY channel, second ORDER BY second DESC LIMIT $2
            ) newest ORDER BY at, channel
            """, [id.rawValue, max(limit, 0)]
        ).map { row in
            SalesPoint(channel: try row.decode("channel"), at: try row.decode("at"), tickets: try row.decode("tickets"))
        }
    }

    /// The event's counters as the ledger alone implies them: what Redis is rebuilt from.
    public func eventStock(_ id: EventID) async throws -> EventStock {
        guard let event = try await event(id) else { throw LedgerError.eventNotFound(id) }
        let listings = try await listings(id)
        let orders = try await orders(id)
        return EventStock(
            policy: event.policy, allocations: listings.mapValues(\.allocation), mode: event.mode, orders: orders,
            fence: try await fence(id))
    }

    // MARK: - Helpers

    /// Runs a write in a transaction, turning the ledger's no-oversell check into ``LedgerError/wouldOversell``.
    func writeChecked<T: Sendable>(_ event: EventID, _ body: (PostgresSession) async throws -> T)
        async throws -> T
    {
        do {
            return try await postgres.withTransaction(body)
        } catch let error as PostgresError where error.sqlState == "23514" {
            throw LedgerError.wouldOversell(event)
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw LedgerError.eventNotFound(event)
        }
    }

    /// Marks a recorded, unreleased order released and gives its tickets back; nil when there is none.
    private static func releaseExisting(
        _ event: EventID, _ platform: Platform, _ orderID: String, session: PostgresSession
    ) async throws -> ReleaseResult? {
        let released = try await session.query(
            """
            UPDATE orders SET released_at = now()
            WHERE event_id = $3 AND platform = $1 AND platform_order_id = $2 AND released_at IS NULL
            RETURNING quantity, outcome
            """, [platform.rawValue, orderID, event.rawValue])
        guard let row = released.first else { return nil }
        let quantity: Int = try row.decode("quantity")
        guard let outcome = ReservationOutcome(rawValue: try row.decode("outcome")) else {
            throw LedgerError.corrupt("order outcome \(row["outcome"] ?? "NULL")")
        }
        guard outcome.holdsTickets, quantity > 0 else { return .releasedNothingHeld }
        try await giveBack(quantity, event, platform, session: session)
        return .released
    }

    /// Gives `quantity` tickets of a platform back (a release or a decrease): `events.sold` goes
    /// down, and a closed platform keeps allocation = sold (as the scripts do in Redis).
    private static func giveBack(_ quantity: Int, _ event: EventID, _ platform: Platform, session: PostgresSession)
        async throws
    {
        guard quantity > 0 else { return }
        _ = try await session.query(
            "UPDATE events SET sold = sold - $2, updated_at = now() WHERE id = $1", [event.rawValue, quantity])
        _ = try await session.query(
            """
            UPDATE listings l SET allocation = greatest(l.allocation - $3, 0)
            FROM events e
            WHERE l.event_id = $1 AND l.platform = $2 AND e.id = l.event_id AND e.mode IN ('red_alert', 'closed')
            """, [event.rawValue, platform.rawValue, quantity])
    }

    /// The columns ``orderRecord(_:event:)`` reads (after `platform` and `platform_order_id`).
    private static let orderColumns =
        "quantity, outcome, excess, released_at IS NOT NULL AS released, target, version, revision"

    private static func orderRecord(_ row: PostgresRow, event: EventID) throws -> OrderRecord {
        guard let platform = Platform(rawValue: try row.decode("platform")),
            let outcome = ReservationOutcome(rawValue: try row.decode("outcome"))
        else {
            throw LedgerError.corrupt("order \(row["platform_order_id"] ?? "?") of event \(event)")
        }
        return OrderRecord(
            channel: .platform(platform), orderID: try row.decode("platform_order_id"),
            quantity: try row.decode("quantity"), outcome: outcome, excess: try row.decode("excess"),
            released: try row.decode("released"), target: try row.decodeIfPresent("target"),
            version: try row.decode("version"), revision: try row.decode("revision"))
    }

    private static func closePlatforms(_ event: EventID, mode: EventMode, session: PostgresSession) async throws {
        _ = try await session.query(
            "UPDATE events SET mode = $2, updated_at = now() WHERE id = $1 AND mode IN ('open', $2)",
            [event.rawValue, mode.rawValue])
        _ = try await session.query(
            """
            UPDATE listings l SET allocation = COALESCE((
                SELECT sum(o.quantity) FROM orders o
                WHERE o.event_id = l.event_id AND o.platform = l.platform
                  AND o.outcome <> 'overbooked' AND o.released_at IS NULL), 0)
            WHERE l.event_id = $1
            """, [event.rawValue])
    }

    private static func eventRecord(_ row: PostgresRow) throws -> EventRecord {
        let id = try EventID(try row.decode("id", as: String.self))
        guard let mode = EventMode(rawValue: try row.decode("mode")) else {
            throw LedgerError.corrupt("mode \(row["mode"] ?? "NULL") of event \(id)")
        }
        let policy = try CapacityPolicy(
            capacity: try row.decode("capacity"),
            safetyStock: try Ratio(partsPerMillion: try row.decode("safety_stock_ppm", as: Int64.self)),
            softCap: try Ratio(partsPerMillion: try row.decode("soft_cap_ppm", as: Int64.self)))
        return EventRecord(id: id, name: try row.decode("name"), policy: policy, mode: mode, sold: try row.decode("sold"))
    }
}
