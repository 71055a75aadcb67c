import Synchronization

/// A pool of up to `poolSize` libpq connections, opened lazily.
///
/// Each connection has its own thread for libpq's blocking calls. When every connection is busy,
/// callers wait in FIFO order; a cancelled waiter throws `CancellationError`. Broken connections are
/// closed and replaced on next use, and a connection is never returned to the pool inside a transaction.
public final class PostgresClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: PostgresConfiguration
    private let state = Mutex(PoolState())

    /// Creates a client; no connection is opened until first use.
    public init(configuration: PostgresConfiguration) {
        self.configuration = configuration
    }

    /// Runs one parameterised statement on a pooled connection.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        try await self.withConnection { session in
            try await session.query(sql, parameters)
        }
    }

    /// Checks a connection out of the pool for the duration of `body` (waiting if all are busy).
    public func withConnection<T: Sendable>(_ body: (PostgresSession) async throws -> T) async throws -> T {
        let connection = try await self.checkOut()
        let session = PostgresSession(connection: connection)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(session))
        } catch {
            result = .failure(error)
        }
        session.invalidate()
        await self.checkIn(connection)
        return try result.get()
    }

    /// BEGIN; body; COMMIT — or ROLLBACK when body throws (the error is rethrown).
    ///
    /// If the transaction failed inside `body` without `body` throwing, COMMIT rolls it back and
    /// this throws `.queryFailed`.
    public func withTransaction<T: Sendable>(_ body: (PostgresSession) async throws -> T) async throws -> T {
        try await self.withConnection { session in
            try await session.query("BEGIN")
            let value: T
            do {
                value = try await body(session)
            } catch {
                // If ROLLBACK fails the connection is broken or still in a transaction; check-in
                // discards it either way.
                _ = try? await session.query("ROLLBACK")
                throw error
            }
            let commit = try await session.query("COMMIT")
            if commit.commandTag == "ROLLBACK" {
                throw PostgresError(
                    kind: .queryFailed,
                    message: "transaction was rolled back at COMMIT because a statement in it failed"
                )
            }
            return value
        }
    }

    /// Closes every connection; waiting and later calls throw .shutdown. Idempotent.
    ///
    /// Idle connections are closed now; connections in use are closed when their closure returns.
    public func shutdown() async {
        let (idle, waiters) = self.state.withLock { state in
            state.isShutdown = true
            let idle = state.idle
            let waiters = state.waiters
            state.idle.removeAll()
            state.waiters.removeAll()
            state.openSlots -= idle.count
            return (idle, waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: PostgresError.shutdown)
        }
        for connection in idle {
            await connection.close()
        }
    }

    // MARK: Pool

    /// Takes an idle connection, opens a new one, or waits for one (FIFO, cancellation-aware).
    private func checkOut() async throws -> PostgresConnection {
        let lease = try await self.lease()
        switch lease {
        case .connection(let connection):
            if await connection.checkHealth() {
                return connection
            }
            // Broken while idle (e.g. the server closed it): replace it in the same slot.
            await connection.close()
            return try await self.openConnection()
        case .openNew:
            return try await self.openConnection()
        }
    }

    private func lease() async throws -> Lease {
        let poolSize = self.configuration.effectivePoolSize
        let immediate = try self.state.withLock { state in try state.leaseImmediately(poolSize: poolSize) }
        if let immediate {
            return immediate
        }
        let waiterID = self.state.withLock { state in state.makeWaiterID() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let immediate: Result<Lease, any Error>? = self.state.withLock { state in
                    // Checked under the lock: either onCancel already ran (and found nothing to
                    // remove), so we see the flag here, or it runs later and finds the waiter.
                    if Task.isCancelled {
                        return .failure(CancellationError())
                    }
                    do {
                        if let lease = try state.leaseImmediately(poolSize: poolSize) {
                            return .success(lease)
                        }
                    } catch {
                        return .failure(error)
                    }
                    state.waiters.append(Waiter(id: waiterID, continuation: continuation))
                    return nil
                }
                if let immediate {
                    continuation.resume(with: immediate)
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Opens a connection for a slot already counted in `openSlots`; gives the slot back on failure.
    private func openConnection() async throws -> PostgresConnection {
        let id = self.state.withLock { state in state.makeConnectionID() }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: self.configuration, id: id)
        } catch {
            self.releaseSlot()
            throw error
        }
        if self.state.withLock({ $0.isShutdown }) {
            await connection.close()
            self.releaseSlot()
            throw PostgresError.shutdown
        }
        return connection
    }

    /// Returns a connection after use: to the next waiter, to the idle list, or closed if it is
    /// broken, left inside a transaction that could not be rolled back, or the client is shut down.
    private func checkIn(_ connection: PostgresConnection) async {
        guard await connection.prepareForReuse() else {
            await connection.close()
            self.releaseSlot()
            return
        }
        enum Action {
            case handOver(Waiter)
            case close
            case none
        }
        let action = self.state.withLock { state -> Action in
            if state.isShutdown {
                state.openSlots -= 1
                return .close
            }
            if !state.waiters.isEmpty {
                return .handOver(state.waiters.removeFirst())
            }
            state.idle.append(connection)
            return .none
        }
        switch action {
        case .handOver(let waiter):
            waiter.continuation.resume(returning: .connection(connection))
        case .close:
            await connection.close()
        case .none:
            break
        }
    }

    /// Frees a slot whose connection is gone; the next waiter (if any) may open a new one in it.
    private func releaseSlot() {
        let waiter = self.state.withLock { state -> Waiter? in
            state.openSlots -= 1
            guard !state.isShutdown, !state.waiters.isEmpty else { return nil }
            state.openSlots += 1
            return state.waiters.removeFirst()
        }
        waiter?.continuation.resume(returning: .openNew)
    }
}

/// What a caller gets from the pool: an idle connection or permission to open one.
private enum Lease: Sendable {
    case connection(PostgresConnection)
    case openNew
}

private struct Waiter: Sendable {
    let id: Int
    let continuation: CheckedContinuation<Lease, any Error>
}

private struct PoolState: Sendable {
    var idle: [PostgresConnection] = []
    /// Connections open, opening or in use (idle included); never more than the pool size.
    var openSlots = 0
    var waiters: [Waiter] = []
    var isShutdown = false
    private var nextWaiterID = 0
    private var nextConnectionID = 0

    /// An idle connection (most recently used first) or a free slot; nil when the caller must wait.
    mutating func leaseImmediately(poolSize: Int) throws -> Lease? {
        if self.isShutdown {
            throw PostgresError.shutdown
        }
        if let connection = self.idle.popLast() {
            return .connection(connection)
        }
        if self.openSlots < poolSize {
            self.openSlots += 1
            return .openNew
        }
        return nil
    }

    mutating func makeWaiterID() -> Int {
        self.nextWaiterID += 1
        return self.nextWaiterID
    }

    mutating func makeConnectionID() -> Int {
        self.nextConnectionID += 1
        return self.nextConnectionID
    }
}
