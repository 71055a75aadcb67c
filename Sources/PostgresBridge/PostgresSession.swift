import Synchronization

/// A connection checked out of the pool for the duration of a closure.
///
/// Valid only inside the `withConnection`/`withTransaction` closure that received it; statements
/// on one session run one after another on the connection's own thread.
public final class PostgresSession: Sendable {
    let connection: PostgresConnection
    private let isActive = Atomic<Bool>(true)

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Runs one parameterised statement (PQexecParams, text-format parameters; nil is SQL NULL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        try self.checkActive()
        return try await self.connection.query(sql, parameters.map { $0?.postgresText })
    }

    /// Runs a multi-statement script with PQexec (for migrations only).
    public func execute(script: String) async throws {
        try self.checkActive()
        try await self.connection.execute(script: script)
    }

    /// Ends the session when its closure returns.
    func invalidate() {
        self.isActive.store(false, ordering: .releasing)
    }

    private func checkActive() throws {
        guard self.isActive.load(ordering: .acquiring) else {
            throw PostgresError(
                kind: .unexpectedResult,
                message: "PostgresSession used after its withConnection closure returned"
            )
        }
    }
}
