import Synchronization

/// A one-shot "the daemon is ready" signal: the daemon calls `signal()` once its sockets are bound
/// and Redis and PostgreSQL answer; `SystemdNotifierService` waits for it before sending READY=1.
public final class ReadinessSignal: Sendable {
    private struct State {
        var ready = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether `signal()` was called.
    public var isReady: Bool { state.withLock { $0.ready } }

    /// Marks the daemon ready and wakes every waiter; later calls do nothing.
    public func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.ready else { return [] }
            state.ready = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once `signal()` was called, or when the calling task is cancelled (check `isReady`).
    public func wait() async {
        let id = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.ready || state.cancelled.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume()
        }
    }
}
