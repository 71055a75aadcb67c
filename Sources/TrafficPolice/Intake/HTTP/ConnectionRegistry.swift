import NIOCore
import Synchronization

/// The open connections of one server: enforces the connection limit and lets shutdown quiesce,
/// wait for, and finally close them.
final class ConnectionRegistry: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts the connection in; false when the server is full or shutting down.
    func admit(_ channel: any Channel) -> Bool {
        let admitted = state.withLock { state in
            guard !state.shuttingDown, state.open.count < limit else { return false }
            state.open[ObjectIdentifier(channel)] = channel
            return true
        }
        if admitted {
            let id = ObjectIdentifier(channel)
            channel.closeFuture.whenComplete { _ in self.remove(id) }
        }
        return admitted
    }

    var count: Int { state.withLock { $0.open.count } }

    private func remove(_ id: ObjectIdentifier) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.open[id] = nil
            guard state.open.isEmpty else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Refuses new connections from now on and returns the open ones; nil if already called.
    func beginShutdown() -> [any Channel]? {
        state.withLock { state in
            guard !state.shuttingDown else { return nil }
            state.shuttingDown = true
            return Array(state.open.values)
        }
    }

    /// Closes whatever is still open (the end of the grace period).
    func closeAll() {
        for channel in state.withLock({ Array($0.open.values) }) {
            channel.close(promise: nil)
        }
    }

    /// Returns once no connection is open.
    func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let empty = state.withLock { state in
                if state.open.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if empty { continuation.resume() }
        }
    }
}
