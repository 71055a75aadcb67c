/// `GET /healthz` (the process serves) and `GET /readyz` (listening, and the injected check says
/// ready), on every socket.
enum ProbeRoutes {
    static func routes(readiness: @escaping @Sendable () async -> Bool, listening: ListeningSignal) -> [Route] {
        [
            Route(.GET, "/healthz", name: "healthz") { _ in .status(.ok, "ok") },
            Route(.GET, "/readyz", name: "readyz") { _ in
                guard listening.isListening, await readiness() else {
                    return .error(.serviceUnavailable, "not_ready", "not ready to take requests")
                }
                return .status(.ok, "ready")
            },
        ]
    }
}
