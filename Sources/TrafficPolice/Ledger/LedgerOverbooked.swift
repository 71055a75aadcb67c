import PostgresBridge
import TrafficPoliceCore

extension Ledger {
    /// What was done about an overbooked order (DESIGN.md section 3), as `order_changes.change` records it.
    public enum OverbookedAction: String, Sendable, Hashable, CaseIterable {
        /// The platform moved the order to its waitlist (Luma).
        case waitlisted = "overbooked_waitlisted"
        /// The order is flagged for the operator to cancel or refund on the platform.
        case flagged = "overbooked_flagged"
    }

    /// Records in `order_changes` what was done about an overbooked order (or an amendment of it that
    /// was refused), with the order's tickets held, target, version and revision as the ledger has them.
    /// At most one action per revision of the order: false when one is already recorded, or when the
    /// ledger has no such order (nothing is written then).
    @discardableResult
    public func recordOverbookedAction(event: EventID, platform: Platform, orderID: String, action: OverbookedAction)
        async throws -> Bool
    {
        let actions = OverbookedAction.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let inserted = try await postgres.query(
            """
            INSERT INTO order_changes (event_id, platform, platform_order_id, change, from_quantity, to_quantity,
                target, version, revision, source)
            SELECT o.event_id, o.platform, o.platform_order_id, $4, h.held, h.held,
                coalesce(o.target, CASE WHEN o.released_at IS NULL THEN o.quantity ELSE 0 END),
                o.version, o.revision, o.source
            FROM orders o,
                LATERAL (SELECT CASE WHEN o.outcome <> 'overbooked' AND o.released_at IS NULL
                    THEN o.quantity ELSE 0 END AS held) h
            WHERE o.event_id = $1 AND o.platform = $2 AND o.platform_order_id = $3
                AND NOT EXISTS (
                    SELECT 1 FROM order_changes c
                    WHERE c.event_id = o.event_id AND c.platform = o.platform
                        AND c.platform_order_id = o.platform_order_id AND c.revision = o.revision
                        AND c.change IN (\(actions)))
            """, [event.rawValue, platform.rawValue, orderID, action.rawValue])
        return inserted.affectedRows == 1
    }
}
