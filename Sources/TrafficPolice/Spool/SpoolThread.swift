import NIOPosix
import Synchronization

/// The spool's own thread: every blocking file call runs here (a one-thread `NIOThreadPool`), never on
/// Swift's cooperative pool, one at a time and in the order submitted. Callers await a continuation.
final class SpoolThread: Sendable {
    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let file = Mutex(SpoolFile())
    private let isStopped = Atomic<Bool>(false)
    /// Whole records in the file, published after every change for status readers.
    let count = Atomic<Int>(0)
    /// Bytes in the file, published after every change for status readers.
    let bytes = Atomic<Int>(0)
    /// fdatasync calls made for appends, published for status readers.
    let syncs = Atomic<Int>(0)

    init() { pool.start() }

    deinit {
        // Safety net for a spool dropped without `stop()`; the file closes in SpoolFile's deinit.
        if !isStopped.load(ordering: .acquiring) { pool.shutdownGracefully { _ in } }
    }

    /// Runs `body` with the file on the spool's thread. Not cancellation-aware: a submitted call always
    /// runs to completion, so the file never holds half a record the spool does not know about.
    func run<T: Sendable>(_ body: @escaping @Sendable (SpoolFile) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            pool.submit { state in
                guard case .active = state else { return continuation.resume(throwing: SpoolError.closed) }
                let result = Result<T, any Error> {
                    try self.file.withLock { file throws -> T in
                        defer {
                            self.count.store(file.count, ordering: .releasing)
                            self.bytes.store(file.size, ordering: .releasing)
                            self.syncs.store(file.syncs, ordering: .releasing)
                        }
                        return try body(file)
                    }
                }
                continuation.resume(with: result)
            }
        }
    }

    /// Closes the file and stops the thread. Idempotent.
    func stop() async {
        guard !isStopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = try? await run { $0.release() }
        try? await pool.shutdownGracefully()
    }
}
