import Synchronization

/// The last time a long-running loop went round, for liveness probes: a loop that stops beating
/// (hung on a job, a lock or a call that never returns) makes its probe fail, and the systemd
/// watchdog pings stop.
public final class Heartbeat: Sendable {
    private let last = Mutex(ContinuousClock.now)

    public init() {}

    /// Records a beat now.
    public func beat() { last.withLock { $0 = .now } }

    /// Time since the last beat.
    public var age: Duration { ContinuousClock.now - last.withLock { $0 } }

    /// A probe that fails when the last beat is older than `limit`.
    public func probe(name: String, limit: Duration) -> LivenessProbe {
        LivenessProbe(name: name) { [self] in
            let age = self.age
            guard age <= limit else { throw Stalled(name: name, age: age) }
        }
    }

    /// A loop that has not beaten for too long.
    public struct Stalled: Error, CustomStringConvertible {
        public var name: String
        public var age: Duration
        public var description: String { "\(name) has not gone round for \(age)" }
    }
}
