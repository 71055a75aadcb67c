import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import TrafficPoliceCore

/// The admin API on the admin Unix socket: `GET /healthz`, `GET /readyz`, `GET /metrics`
/// (Prometheus text), `GET /api/events/{id}` (the `event show --json` object) and
/// `POST /api/events/{id}/sales` (a box-office sale: see `BoxOfficeRoute`), and the operator
/// dashboard under `/dashboard` when given a `DashboardSource` (see `DashboardRoutes`).
public struct AdminServer: Service {
    /// Where and how the admin socket serves.
    public struct Configuration: Sendable {
        /// Default `/run/traffic-police/admin.sock`, mode 0660.
        public var socket: SocketBinding = .path("/run/traffic-police/admin.sock")
        /// The same limits as intake by default (admin requests have no body to speak of).
        public var limits = HTTPServerLimits()
        /// The dashboard's live updates.
        public var dashboard = DashboardConfiguration()

        public init() {}
    }

    public let configuration: Configuration
    /// Fires once the socket is bound.
    public let listening = ListeningSignal()
    private let registry: PrometheusCollectorRegistry
    private let snapshot: @Sendable (EventID) async throws -> EventSnapshot
    private let sell: (@Sendable (EventID, BoxOfficeSale) async throws -> BoxOfficeResult)?
    private let readiness: @Sendable () async -> Bool
    private let dashboard: DashboardSource?
    private let metrics: HTTPServerMetrics
    private let logger: Logger
    private let group: any EventLoopGroup
    private let onListening: (@Sendable () -> Void)?

    /// - Parameters:
    ///   - registry: what `/metrics` exports.
    ///   - snapshot: an event's state, e.g. `{ try await desk.snapshot($0, allowLedgerFallback: true) }`;
    ///     `LedgerError.eventNotFound` becomes 404.
    ///   - sell: a box-office sale, e.g. `{ try await desk.sell($0, quantity: $1.quantity, ...) }`;
    ///     nil (the default) answers every sale 503 `unavailable`.
    ///   - readiness: what `/readyz` reports.
    ///   - dashboard: what the operator dashboard reads and changes; nil (the default) serves no dashboard.
    ///   - metricsFactory: where this server's own request counters go.
    public init(
        configuration: Configuration,
        registry: PrometheusCollectorRegistry,
        snapshot: @escaping @Sendable (EventID) async throws -> EventSnapshot,
        sell: (@Sendable (EventID, BoxOfficeSale) async throws -> BoxOfficeResult)? = nil,
        readiness: @escaping @Sendable () async -> Bool = { true },
        dashboard: DashboardSource? = nil,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        logger: Logger = Logger(label: "traffic-police.admin"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: (@Sendable () -> Void)? = nil
    ) {
        self.configuration = configuration
        self.registry = registry
        self.snapshot = snapshot
        self.sell = sell
        self.readiness = readiness
        self.dashboard = dashboard
        self.metrics = HTTPServerMetrics(server: "admin", factory: metricsFactory)
        self.logger = logger
        self.group = eventLoopGroup
        self.onListening = onListening
    }

    public func run() async throws {
        let routes = AdminRoutes(registry: registry, snapshot: snapshot, logger: logger)
        let boxOffice = BoxOfficeRoute(sell: sell, snapshot: snapshot, logger: logger)
        let dashboardRoutes =
            dashboard.map {
                DashboardRoutes(
                    source: $0, snapshot: snapshot, sell: sell, configuration: configuration.dashboard,
                    clients: LiveClients(limit: configuration.dashboard.maxLiveClients), logger: logger
                ).routes
            } ?? []
        let server = UnixHTTPServer(
            binding: configuration.socket,
            router: Router(
                ProbeRoutes.routes(readiness: readiness, listening: listening) + routes.routes + [boxOffice.route]
                    + dashboardRoutes),
            limits: configuration.limits, metrics: metrics, logger: logger, group: group)
        try await server.run(listening: listening, onListening: onListening)
    }
}
