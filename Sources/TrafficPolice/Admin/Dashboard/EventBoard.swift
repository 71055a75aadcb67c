import TrafficPoliceCore

/// Whether sales are closed by fail-safe anywhere: the ledger's overview (the operators' switch and
/// every daemon's report) and this daemon's own watchdog.
public struct FailsafeState: Sendable, Hashable {
    /// Nil when the ledger could not be read.
    public var overview: FailsafeOverview?
    /// This daemon's watchdog status while it is in fail-safe; nil when it is not.
    public var localStatus: String?

    public init(overview: FailsafeOverview?, localStatus: String? = nil) {
        self.overview = overview
        self.localStatus = localStatus
    }
}

/// Everything the dashboard's event page shows, read at one moment; a part that could not be read is nil.
public struct EventBoard: Sendable, Hashable {
    public var snapshot: EventSnapshot
    /// Absorbed and overbooked platform orders, newest first.
    public var flaggedOrders: [OrderRecord]
    /// The delivery queue (shared by every event); nil when Redis could not be read.
    public var queue: QueueStats?
    /// The newest recorded reconciliation.
    public var lastReconciliation: ReconciliationRecord?
    /// The newest capacity changes, newest last.
    public var capacityChanges: [CapacityChangeRecord]
    /// Tickets held per channel by the second they were sold, oldest first (the sales chart).
    public var sales: [SalesPoint]
    public var failsafe: FailsafeState

    public init(
        snapshot: EventSnapshot, flaggedOrders: [OrderRecord] = [], queue: QueueStats? = nil,
        lastReconciliation: ReconciliationRecord? = nil, capacityChanges: [CapacityChangeRecord] = [],
        sales: [SalesPoint] = [], failsafe: FailsafeState = FailsafeState(overview: nil)
    ) {
        self.snapshot = snapshot
        self.flaggedOrders = flaggedOrders
        self.queue = queue
        self.lastReconciliation = lastReconciliation
        self.capacityChanges = capacityChanges
        self.sales = sales
        self.failsafe = failsafe
    }
}
