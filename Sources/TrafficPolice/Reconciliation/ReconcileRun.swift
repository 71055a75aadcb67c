import Foundation
import TrafficPoliceCore

/// What one `traffic-police reconcile` did: per event and platform, the orders read, the drift
/// found, what was fixed and what could not be read.
public struct ReconcileRun: Sendable, Hashable, Codable {
    public var dryRun: Bool
    public var startedAt: Date
    public var finishedAt: Date
    public var events: [EventReconciliation]

    public init(dryRun: Bool, startedAt: Date, finishedAt: Date, events: [EventReconciliation]) {
        self.dryRun = dryRun
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.events = events
    }

    /// Whether the ledger agrees with the platforms at the end: no drift left, and every linked
    /// platform of every event read.
    public var agrees: Bool { events.allSatisfy(\.agrees) }

    /// Whether some platform (or event) could not be read: that part was not reconciled.
    public var incomplete: Bool { events.contains { !$0.unreadable.isEmpty || $0.failure != nil } }

    /// The exit code of DESIGN.md section 6: 69 when a platform (or an event's lock) could not be
    /// read; else 3 when drift is left — found under `--dry-run`, or a real run's drift it must not
    /// fix itself (orders the platform no longer lists, states it does not know); else 0 (the
    /// ledger agrees: no drift, or drift found and fixed).
    public func exitCode(dryRun: Bool) -> Int32 {
        if incomplete { return 69 }
        return agrees ? 0 : 3
    }

    enum CodingKeys: String, CodingKey {
        case dryRun = "dry_run", startedAt = "started_at", finishedAt = "finished_at", events
    }
}

/// One event's reconciliation.
public struct EventReconciliation: Sendable, Hashable, Codable {
    /// How it ended (the ledger's `reconciliations.outcome`).
    public enum Outcome: String, Sendable, Hashable, Codable, CaseIterable {
        /// No drift.
        case agrees
        /// Drift found, and all of it fixed.
        case fixed
        /// Drift left: found under `--dry-run`, or not fixable by applying the platform's state.
        case drift
        /// A platform could not be read (the others were reconciled).
        case unreadable
        /// The event could not be reconciled at all (see ``failure``).
        case failed
    }

    public var event: EventID
    public var startedAt: Date
    public var finishedAt: Date
    public var platforms: [PlatformReconciliation]
    /// Why the event could not be reconciled (its lock held elsewhere, or lost); nil otherwise.
    public var failure: String?

    public init(
        event: EventID, startedAt: Date, finishedAt: Date, platforms: [PlatformReconciliation], failure: String? = nil
    ) {
        self.event = event
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.platforms = platforms
        self.failure = failure
    }

    /// The platforms that could not be read, with why.
    public var unreadable: [Platform: String] {
        var result: [Platform: String] = [:]
        for platform in platforms { if let why = platform.unreadable { result[platform.platform] = why } }
        return result
    }

    /// Drift found, over every platform read.
    public var driftFound: Int { platforms.reduce(0) { $0 + $1.drift.count } }
    /// Drifting orders fixed.
    public var fixed: Int { platforms.reduce(0) { $0 + $1.fixed } }
    /// Drift left at the end.
    public var remaining: Int { platforms.reduce(0) { $0 + $1.remaining.count } }

    /// No drift left, and every linked platform read.
    public var agrees: Bool { failure == nil && unreadable.isEmpty && remaining == 0 }

    public var outcome: Outcome {
        if failure != nil { return .failed }
        if !unreadable.isEmpty { return .unreadable }
        if remaining > 0 { return .drift }
        return driftFound > 0 ? .fixed : .agrees
    }

    enum CodingKeys: String, CodingKey {
        case event, startedAt = "started_at", finishedAt = "finished_at", platforms, failure
    }
}

/// One platform of one event.
public struct PlatformReconciliation: Sendable, Hashable, Codable {
    public var platform: Platform
    /// The platform's event id (as linked).
    public var platformEventID: String
    /// Distinct orders the platform listed (0 when unreadable).
    public var ordersRead: Int
    /// The ledger's orders of the event on the platform.
    public var ledgerOrders: Int
    /// The drift found.
    public var drift: [OrderDrift]
    /// Drifting orders the run fixed (0 under `--dry-run`).
    public var fixed: Int
    /// The drift left at the end (all of it under `--dry-run`).
    public var remaining: [OrderDrift]
    /// Orders the platform holds that the ledger knows were overbooked (an operator's to cancel).
    public var overbooked: Int
    /// Why the platform could not be read; nil when it was.
    public var unreadable: String?

    public init(
        platform: Platform, platformEventID: String, ordersRead: Int = 0, ledgerOrders: Int = 0,
        drift: [OrderDrift] = [], fixed: Int = 0, remaining: [OrderDrift] = [], overbooked: Int = 0,
        unreadable: String? = nil
    ) {
        self.platform = platform
        self.platformEventID = platformEventID
        self.ordersRead = ordersRead
        self.ledgerOrders = ledgerOrders
        self.drift = drift
        self.fixed = fixed
        self.remaining = remaining
        self.overbooked = overbooked
        self.unreadable = unreadable
    }

    enum CodingKeys: String, CodingKey {
        case platform, platformEventID = "platform_event_id", ordersRead = "orders_read"
        case ledgerOrders = "ledger_orders", drift, fixed, remaining, overbooked, unreadable
    }
}
