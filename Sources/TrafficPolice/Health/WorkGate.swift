import Synchronization

/// A gate in front of work that must not run while the daemon rebuilds Redis or sits in fail-safe
/// (queue jobs, rebalancing passes): closing it holds new work back, and ``drained(within:)`` waits
/// for the work already inside to finish.
public final class WorkGate: Sendable {
    private struct State {
        var open = true
        var active = 0
    }

    private let state = Mutex(State())
    /// How often a held-back caller looks again.
    private let poll: Duration

    public init(poll: Duration = .milliseconds(20)) {
        self.poll = poll
    }

    /// Whether new work may start.
    public var isOpen: Bool { state.withLock { $0.open } }

    /// Work inside the gate now.
    public var active: Int { state.withLock { $0.active } }

    /// Enters when the gate is open (true); false, without entering, when it is closed.
    public func tryEnter() -> Bool {
        state.withLock { state in
            guard state.open else { return false }
            state.active += 1
            return true
        }
    }

    /// Waits until the gate is open and enters (true), or gives up (false, not entered) when the
    /// task is cancelled or `giveUp` says so.
    public func enter(giveUp: @Sendable () -> Bool = { false }) async -> Bool {
        while !tryEnter() {
            if Task.isCancelled || giveUp() { return false }
            try? await Task.sleep(for: poll)
        }
        return true
    }

    /// Leaves after ``tryEnter()`` or ``enter(giveUp:)`` returned true.
    public func leave() {
        state.withLock { $0.active = max(0, $0.active - 1) }
    }

    /// Holds new work back; work inside goes on.
    public func close() { state.withLock { $0.open = false } }

    /// Lets work start again.
    public func open() { state.withLock { $0.open = true } }

    /// Waits until no work is inside (true), or `limit` passed (false).
    public func drained(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while active > 0 {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return false }
            try? await Task.sleep(for: poll)
        }
        return true
    }
}
