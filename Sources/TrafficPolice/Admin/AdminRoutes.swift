import Logging
import Prometheus
import TrafficPoliceCore

/// `/metrics` and `/api/events/{id}`.
struct AdminRoutes: Sendable {
    let registry: PrometheusCollectorRegistry
    let snapshot: @Sendable (EventID) async throws -> EventSnapshot
    let logger: Logger

    var routes: [Route] {
        [
            Route(.GET, "/metrics", name: "metrics") { [registry] _ in
                var buffer: [UInt8] = []
                registry.emit(into: &buffer)
                return .text(.ok, buffer, contentType: "text/plain; version=0.0.4; charset=utf-8")
            },
            Route(.GET, "/api/events/{id}", name: "event", handler: event),
        ]
    }

    private func event(_ request: ServerRequest) async -> ServerResponse {
        let raw = request.parameter ?? ""
        let id: EventID
        do {
            id = try EventID(raw)
        } catch {
            return .error(.badRequest, "bad_event_id", "\(error)")
        }
        do {
            return .json(.ok, try await snapshot(id))
        } catch LedgerError.eventNotFound {
            return .error(.notFound, "event_not_found", "no event \(id.rawValue)")
        } catch {
            logger.warning("event snapshot failed", metadata: ["EVENT_ID": "\(id.rawValue)", "error": "\(error)"])
            return .unavailable("snapshot_failed", "the event could not be read: \(error)", retryAfterSeconds: 1)
        }
    }
}
