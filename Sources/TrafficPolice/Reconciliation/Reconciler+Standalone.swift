import CurlBridge
import Logging
import RedisBridge
import TrafficPoliceCore

extension Reconciler {
    /// A reconciler outside the daemon (`traffic-police reconcile`): a ``PlatformGateway`` built as
    /// the daemon builds it — the platforms the configuration and credentials enable, a
    /// ``Throttler`` on `redis` with the configured budgets (shared with every daemon instance),
    /// libcurl — and the event locks on `redis`. Runs `body`, then shuts the curl client down.
    public static func withStandalone<T: Sendable>(
        configuration: TrafficPoliceConfiguration, credentials: Credentials, desk: EventDesk, redis: RedisClient,
        reconciler: Configuration = .init(), logger: Logger, _ body: (Reconciler) async throws -> T
    ) async throws -> T {
        let throttler = try Throttler(
            redis: redis,
            budgets: Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, configuration.platforms.budget($0)) }))
        let curl = CurlClient(configuration: .init(threads: 2))
        let gateway = PlatformGateway(
            endpoints: PlatformGateway.endpoints(configuration.platforms, credentials: credentials), throttler: throttler,
            curl: curl, logger: logger)
        let reconciler = Reconciler(
            desk: desk, gateway: gateway, locks: EventLock(redis: redis), configuration: reconciler, logger: logger)
        do {
            let result = try await body(reconciler)
            await curl.shutdown()
            return result
        } catch {
            await curl.shutdown()
            throw error
        }
    }
}
