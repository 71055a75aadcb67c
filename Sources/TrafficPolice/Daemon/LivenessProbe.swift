/// One liveness check for the systemd watchdog: an async closure that returns when the part it
/// checks is responsive (e.g. `await queue.ping()` on an actor). A probe that does not return within
/// the deadline, or throws, stops the WATCHDOG=1 pings, so systemd restarts a hung daemon.
///
/// Probe liveness (our actors answer), not dependencies: Redis being down is fail-safe, not a restart.
public struct LivenessProbe: Sendable {
    /// Shown in logs when the probe fails.
    public var name: String
    /// The check; returning means alive.
    public var check: @Sendable () async throws -> Void

    public init(name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}
