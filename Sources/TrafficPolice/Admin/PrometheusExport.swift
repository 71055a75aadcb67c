import Metrics
import Prometheus

/// A Prometheus registry and the swift-metrics factory that records into it: bootstrap
/// `MetricsSystem` with `factory` and hand `registry` to `AdminServer` for `/metrics`.
public struct PrometheusExport: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: any MetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
    }

    /// The text exposition format, as `/metrics` serves it.
    public func text() -> String {
        registry.emitToString()
    }
}
