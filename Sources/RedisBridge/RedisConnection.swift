import Dispatch
import NIOPosix
import Synchronization

/// One pooled connection: its own thread, a queue of pending requests and a hiredis context.
///
/// Callers append requests to the queue; the first request on an idle connection schedules a
/// drain on the connection's thread. A drain takes everything queued, appends all of it to the
/// hiredis output buffer, then reads the replies in order and resumes each caller
/// (auto-pipelining). It loops until the queue is empty.
///
/// Once a request has been taken off the queue it is always written and read to the end on the
/// connection thread, so a cancelled task can never leave the connection half-read.
final class RedisConnection: Sendable {
    private struct QueueState {
        var requests: [PendingRequest] = []
        var drainScheduled = false
        var isClosed = false
    }

    private let queue = Mutex(QueueState())
    private let context: Mutex<HiredisContext>
    private let thread: NIOThreadPool
    private let nextRequestID = Atomic<UInt64>(0)
    private let threadStopped = Atomic<Bool>(false)

    /// Commands queued or in flight; the pool picks the connection with the fewest.
    let pendingCommands = Atomic<Int>(0)

    init(configuration: RedisConfiguration) {
        self.context = Mutex(HiredisContext(configuration: configuration))
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.thread.start()
        self.thread.submit { state in
            if case .active = state {
                HiredisContext.blockSIGPIPEOnCurrentThread()
            }
        }
    }

    deinit {
        // Only reached if the client was not shut down; never leave a running thread behind.
        if !self.threadStopped.load(ordering: .acquiring) {
            self.thread.shutdownGracefully(queue: .global()) { _ in }
        }
    }

    /// Runs one command and returns its reply (error replies are returned, not thrown).
    func execute(_ commands: RedisCommandBuffer) async throws -> RedisReply {
        try Task.checkCancellation()
        let id = self.nextRequestID.wrappingAdd(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                self.enqueue(PendingRequest(id: id, commands: commands, completion: .single(continuation)))
            }
        } onCancel: {
            self.cancel(id)
        }
    }

    /// Runs several commands back to back and returns their replies in order.
    func executeAll(_ commands: RedisCommandBuffer) async throws -> [RedisReply] {
        try Task.checkCancellation()
        let id = self.nextRequestID.wrappingAdd(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                self.enqueue(PendingRequest(id: id, commands: commands, completion: .many(continuation)))
            }
        } onCancel: {
            self.cancel(id)
        }
    }

    private func enqueue(_ request: PendingRequest) {
        let commandCount = request.commands.commandCount
        let (accepted, scheduleDrain) = self.queue.withLock { state -> (Bool, Bool) in
            if state.isClosed {
                return (false, false)
            }
            state.requests.append(request)
            if state.drainScheduled {
                return (true, false)
            }
            state.drainScheduled = true
            return (true, true)
        }
        guard accepted else {
            request.fail(RedisError.shutdown)
            return
        }
        self.pendingCommands.add(commandCount, ordering: .relaxed)
        if scheduleDrain {
            self.thread.submit { state in
                switch state {
                case .active:
                    self.drain()
                case .cancelled:
                    self.failQueued(with: RedisError.shutdown)
                }
            }
        }
    }

    /// A request that is still queued is removed and fails with `CancellationError`; one that the
    /// connection thread already took runs to completion.
    private func cancel(_ id: UInt64) {
        let removed = self.queue.withLock { state -> PendingRequest? in
            guard let index = state.requests.firstIndex(where: { $0.id == id }) else {
                return nil
            }
            return state.requests.remove(at: index)
        }
        if let removed {
            self.pendingCommands.subtract(removed.commands.commandCount, ordering: .relaxed)
            removed.fail(CancellationError())
        }
    }

    /// Runs on the connection thread until the queue is empty.
    private func drain() {
        var batch: [PendingRequest] = []
        while true {
            let hasWork = self.queue.withLock { state -> Bool in
                if state.requests.isEmpty {
                    state.drainScheduled = false
                    return false
                }
                swap(&state.requests, &batch)
                return true
            }
            guard hasWork else {
                return
            }
            var commandCount = 0
            for request in batch {
                commandCount += request.commands.commandCount
            }
            self.context.withLock { context in
                context.execute(batch)
            }
            self.pendingCommands.subtract(commandCount, ordering: .relaxed)
            batch.removeAll(keepingCapacity: true)
        }
    }

    private func failQueued(with error: RedisError) {
        let requests = self.queue.withLock { state -> [PendingRequest] in
            let requests = state.requests
            state.requests = []
            state.drainScheduled = false
            return requests
        }
        for request in requests {
            self.pendingCommands.subtract(request.commands.commandCount, ordering: .relaxed)
            request.fail(error)
        }
    }

    /// Fails queued requests with `.shutdown`, lets the request in flight finish, closes the
    /// hiredis context on the connection thread and stops the thread.
    func shutdown() async {
        let queued = self.queue.withLock { state -> [PendingRequest] in
            state.isClosed = true
            let requests = state.requests
            state.requests = []
            return requests
        }
        for request in queued {
            self.pendingCommands.subtract(request.commands.commandCount, ordering: .relaxed)
            request.fail(RedisError.shutdown)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.thread.submit { _ in
                self.context.withLock { context in
                    context.close()
                }
                continuation.resume()
            }
        }
        try? await self.thread.shutdownGracefully()
        self.threadStopped.store(true, ordering: .releasing)
    }
}
