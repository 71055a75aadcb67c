import Metrics

/// The counters every server on a Unix socket keeps (swift-metrics; exported by `/metrics`).
///
/// - `traffic_police_http_requests_total{server, route, status}`: every answer, by route and status.
/// - `traffic_police_http_body_rejections_total{server, route}`: bodies refused for size (413).
public struct HTTPServerMetrics: Sendable {
    /// `intake` or `admin`.
    public let server: String
    public let factory: any MetricsFactory

    public init(server: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.server = server
        self.factory = factory
    }

    func answered(route: String, status: UInt) {
        Counter(
            label: "traffic_police_http_requests_total",
            dimensions: [("server", server), ("route", route), ("status", String(status))],
            factory: factory
        ).increment()
    }

    func bodyTooLarge(route: String) {
        Counter(
            label: "traffic_police_http_body_rejections_total",
            dimensions: [("server", server), ("route", route)],
            factory: factory
        ).increment()
    }
}
