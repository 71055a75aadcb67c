import Logging
import ServiceLifecycle
import Synchronization
import TrafficPoliceCore

/// What asking for a reconciliation from the dashboard did.
public enum ReconcileStart: Sendable, Hashable {
    case started
    /// One is already running for this event (from the dashboard); nothing new was started.
    case alreadyRunning
    /// The daemon is shutting down.
    case unavailable
}

/// Runs the reconciliations operators start from the dashboard, one event each, in the background
/// (`Reconciler.reconcile(event:dryRun:)`, the hook `traffic-police reconcile --event ID` uses): at
/// most one per event at a time; graceful shutdown cancels what is running (every step it makes is
/// idempotent, G3). Its report lands in `reconciliations`, where the event page shows it.
public final class DashboardReconciliations: Service, Sendable {
    private let reconcile: @Sendable (EventID) async throws -> EventReconciliation.Outcome?
    private let running = Mutex<Set<String>>([])
    private let requests: AsyncStream<(EventID, String)>
    private let continuation: AsyncStream<(EventID, String)>.Continuation
    private let logger: Logger

    /// - Parameter reconcile: reconciles one event and says how it ended (nil when it did not run).
    public init(
        reconcile: @escaping @Sendable (EventID) async throws -> EventReconciliation.Outcome?, logger: Logger
    ) {
        self.reconcile = reconcile
        (requests, continuation) = AsyncStream.makeStream()
        self.logger = logger
    }

    /// The daemon's: the reconciler it runs nightly, on one event.
    public convenience init(reconciler: Reconciler, logger: Logger) {
        self.init(
            reconcile: { try await reconciler.reconcile(event: $0, dryRun: false).events.first?.outcome }, logger: logger)
    }

    /// Starts a reconciliation of `event` asked for by `operatorName`, unless one is running.
    public func start(_ event: EventID, by operatorName: String) -> ReconcileStart {
        guard running.withLock({ $0.insert(event.rawValue).inserted }) else { return .alreadyRunning }
        if case .terminated = continuation.yield((event, operatorName)) {
            running.withLock { _ = $0.remove(event.rawValue) }
            return .unavailable
        }
        return .started
    }

    public func run() async {
        await withDiscardingTaskGroup { group in
            for await (event, operatorName) in requests.cancelOnGracefulShutdown() {
                group.addTask { await self.perform(event, by: operatorName) }
            }
            continuation.finish()
            group.cancelAll()
        }
    }

    private func perform(_ event: EventID, by operatorName: String) async {
        var fields: Logger.Metadata = ["EVENT_ID": "\(event.rawValue)", "OPERATOR": "\(operatorName)", "SOURCE": "dashboard"]
        do {
            let outcome = try await reconcile(event)
            fields["OUTCOME"] = "\(outcome?.rawValue ?? "none")"
            logger.notice("reconciliation from the dashboard finished", metadata: fields)
        } catch {
            fields["ERROR"] = "\(error)"
            logger.warning("reconciliation from the dashboard failed", metadata: fields)
        }
        running.withLock { _ = $0.remove(event.rawValue) }
    }
}
