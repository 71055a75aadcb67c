import Logging
import TrafficPoliceCore

/// Where the dashboard reads from and what it may change, as closures so that tests (and an
/// instance without a queue) can supply their own. ``live(desk:queue:localFailsafe:)`` is the daemon's.
public struct DashboardSource: Sendable {
    /// Every event, by id.
    public var events: @Sendable () async throws -> [EventSnapshot]
    /// One event's board; `LedgerError.eventNotFound` becomes 404.
    public var board: @Sendable (EventID) async throws -> EventBoard
    /// The fail-safe state for the events list's banner.
    public var failsafe: @Sendable () async -> FailsafeState
    /// Sets the operators' fail-safe switch (`traffic-police failsafe on|off`); nil: the dashboard cannot.
    public var setFailsafeSwitch: (@Sendable (_ on: Bool, _ by: String, _ reason: String?) async throws -> FailsafeSwitch)?
    /// Starts reconciling one event in the background (`DashboardReconciliations.start`); nil: the
    /// dashboard cannot (an instance without workers).
    public var reconcile: (@Sendable (EventID, _ by: String) -> ReconcileStart)?
    /// Asks the rebalancer for a pass of one event now (`Rebalancer.requestPass(of:by:)`); nil: the
    /// dashboard does not offer it (an instance that runs no rebalancer).
    public var rebalance: (@Sendable (EventID, _ by: String) async -> RebalanceRequests.Outcome)?
    /// Ends one event's sales (`EventDesk.close(_:by:reason:)`, as `traffic-police event close`; offered
    /// in red alert and fail-safe too: closing is always safe); nil: the dashboard does not offer it.
    public var close: (@Sendable (EventID, _ by: String, _ reason: String?) async throws -> EventDesk.CloseResult)?

    public init(
        events: @escaping @Sendable () async throws -> [EventSnapshot],
        board: @escaping @Sendable (EventID) async throws -> EventBoard,
        failsafe: @escaping @Sendable () async -> FailsafeState,
        setFailsafeSwitch: (@Sendable (_ on: Bool, _ by: String, _ reason: String?) async throws -> FailsafeSwitch)?,
        reconcile: (@Sendable (EventID, _ by: String) -> ReconcileStart)? = nil,
        rebalance: (@Sendable (EventID, _ by: String) async -> RebalanceRequests.Outcome)? = nil,
        close: (@Sendable (EventID, _ by: String, _ reason: String?) async throws -> EventDesk.CloseResult)? = nil
    ) {
        self.events = events
        self.board = board
        self.failsafe = failsafe
        self.setFailsafeSwitch = setFailsafeSwitch
        self.reconcile = reconcile
        self.rebalance = rebalance
        self.close = close
    }

    /// How many capacity changes the event page reads.
    static let capacityHistory = 50

    /// Reads Redis and the ledger through the desk, the queue's figures (when given), and this
    /// daemon's watchdog (`localFailsafe`: its status while in fail-safe, else nil); starts
    /// reconciliations with `reconciliations` and asks `rebalancer` for passes, when given; ends sales
    /// through the desk.
    public static func live(
        desk: EventDesk, queue: DeliveryQueue?, localFailsafe: @escaping @Sendable () -> String? = { nil },
        reconciliations: DashboardReconciliations? = nil, rebalancer: Rebalancer? = nil
    ) -> DashboardSource {
        let ledger = desk.ledger
        let failsafe: @Sendable () async -> FailsafeState = {
            FailsafeState(overview: try? await ledger.failsafeOverview(), localStatus: localFailsafe())
        }
        var reconcile: (@Sendable (EventID, String) -> ReconcileStart)? = nil
        if let reconciliations {
            reconcile = { @Sendable id, by in reconciliations.start(id, by: by) }
        }
        var rebalance: (@Sendable (EventID, String) async -> RebalanceRequests.Outcome)? = nil
        if let rebalancer {
            rebalance = { @Sendable id, by in await rebalancer.requestPass(of: id, by: by) }
        }
        return DashboardSource(
            events: { try await desk.list(allowLedgerFallback: true) },
            board: { id in
                let snapshot = try await desk.snapshot(id, allowLedgerFallback: true)
                async let flagged = ledger.flaggedOrders(id)
                async let reconciliations = ledger.reconciliations(id, limit: 1)
                async let changes = ledger.capacityChanges(id, limit: capacityHistory)
                async let sales = ledger.salesTimeline(id)
                async let stats = queue?.stats()
                return EventBoard(
                    snapshot: snapshot, flaggedOrders: try await flagged, queue: try? await stats,
                    lastReconciliation: try await reconciliations.first, capacityChanges: try await changes,
                    sales: try await sales, failsafe: await failsafe())
            },
            failsafe: failsafe,
            setFailsafeSwitch: { try await ledger.setFailsafeSwitch(on: $0, by: $1, reason: $2) },
            reconcile: reconcile,
            rebalance: rebalance,
            close: { try await desk.close($0, by: $1, reason: $2) })
    }
}
