import Synchronization

/// Tells whoever waits that a server's socket is bound and accepting (so the daemon can send
/// READY=1), or that binding failed. Fires once.
public final class ListeningSignal: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Void, any Error>])
        case listening
        case failed(any Error)
    }

    private let state = Mutex(State.waiting([]))

    public init() {}

    /// Returns once the socket listens; throws the bind error if it could not.
    public func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, any Error>? = state.withLock { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .listening:
                    return .success(())
                case .failed(let error):
                    return .failure(error)
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Whether the socket has been bound.
    public var isListening: Bool {
        state.withLock { if case .listening = $0 { true } else { false } }
    }

    func fulfil(_ outcome: Result<Void, any Error>) {
        let waiters: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            switch outcome {
            case .success: state = .listening
            case .failure(let error): state = .failed(error)
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: outcome) }
    }
}
