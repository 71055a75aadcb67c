import Logging
import ServiceLifecycle
import Testing

/// Running swift-service-lifecycle services in tests.
enum ServiceTesting {
    /// Runs `services` in a `ServiceGroup` around `body`, then shuts them down gracefully and expects
    /// them to have stopped within `stopWithin`.
    static func whileRunning(
        _ services: [any Service], stopWithin limit: Duration, _ body: () async throws -> Void
    ) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: [], cancellationSignals: [], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body()
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            let started = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            #expect(ContinuousClock.now - started < limit, "the services stop promptly on graceful shutdown")
        }
    }
}
