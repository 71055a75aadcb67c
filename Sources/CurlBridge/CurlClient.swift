import NIOPosix
import Synchronization

/// An HTTP client over libcurl: each request runs with its own easy handle on a dedicated
/// `NIOThreadPool` thread (never on Swift's cooperative pool) and is awaited via a continuation.
public final class CurlClient: Sendable {
    /// Client-wide settings.
    public struct Configuration: Sendable {
        /// Worker threads, i.e. how many transfers run at once (at least 1).
        public var threads: Int
        /// Largest accepted response body; larger ones fail with `.other`.
        public var maxResponseBytes: Int

        /// Creates a configuration (2 threads, 8 MiB bodies by default).
        public init(threads: Int = 2, maxResponseBytes: Int = 8 << 20) {
            self.threads = threads
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// The settings this client was created with.
    public let configuration: Configuration
    private let pool: NIOThreadPool
    private let shuttingDown = AbortFlag()
    private let poolStopped = Mutex(false)

    /// Creates a client and starts its worker threads; call `shutdown()` when done.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        self.pool = NIOThreadPool(numberOfThreads: max(1, configuration.threads))
        self.pool.start()
    }

    deinit {
        shuttingDown.set()
        if poolStopped.withLock({ stopped in
            defer { stopped = true }
            return !stopped
        }) {
            pool.shutdownGracefully { _ in }
        }
    }

    /// Performs `request`. Throws `CurlError` (kind `.shutdown` after `shutdown()`), or
    /// `CancellationError` when the calling task is cancelled (the transfer is aborted).
    /// Non-2xx statuses are responses, not errors.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        if shuttingDown.isSet { throw CurlError.shutdown }
        let cancelled = AbortFlag()
        let shuttingDown = self.shuttingDown
        let maxResponseBytes = max(0, configuration.maxResponseBytes)
        do {
            return try await withTaskCancellationHandler {
                try await pool.runIfActive {
                    try CurlTransfer.perform(
                        request, maxResponseBytes: maxResponseBytes, cancelled: cancelled,
                        shuttingDown: shuttingDown)
                }
            } onCancel: {
                cancelled.set()
            }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw CurlError.shutdown
        }
    }

    /// Refuses new requests, aborts in-flight transfers (they fail with `.shutdown`, usually
    /// within about a second) and waits for the worker threads to stop. Idempotent.
    public func shutdown() async {
        shuttingDown.set()
        let first = poolStopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        try? await pool.shutdownGracefully()
    }
}
