/// One versioned schema change.
public struct PostgresMigration: Sendable, Hashable {
    /// Orders migrations and identifies them in the schema table.
    public var version: Int
    /// A human-readable name, recorded alongside the version.
    public var name: String
    /// The SQL script (may hold several statements; must not COMMIT itself).
    public var sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies versioned migrations: each in its own transaction, recorded in a schema table
/// (version, name, applied_at), idempotent (already-applied versions are skipped), serialised across
/// concurrent migrators with pg_advisory_xact_lock, in version order; duplicate versions are an error.
public struct PostgresMigrator: Sendable {
    private let client: PostgresClient
    private let table: String
    private let quotedTable: String

    /// Creates a migrator recording into `table` (optionally schema-qualified as "schema.table";
    /// each part is quoted as an identifier).
    public init(client: PostgresClient, table: String = "schema_migrations") {
        self.client = client
        self.table = table
        self.quotedTable = table.split(separator: ".", omittingEmptySubsequences: false)
            .map(quoteIdentifier)
            .joined(separator: ".")
    }

    /// Returns the versions it applied this time (empty when up to date).
    ///
    /// Stops at the first failing migration and throws its error (message prefixed with the
    /// migration's version and name); that migration is rolled back entirely, earlier ones stay applied.
    @discardableResult
    public func apply(_ migrations: [PostgresMigration]) async throws -> [Int] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw PostgresError(
                kind: .unexpectedResult,
                message: "duplicate migration version \(next.version) (\"\(previous.name)\" and \"\(next.name)\")"
            )
        }

        let alreadyApplied = try await self.client.withTransaction { session in
            try await self.lock(session)
            try await session.query(
                """
                CREATE TABLE IF NOT EXISTS \(self.quotedTable) (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """
            )
            return Set(try await self.versions(session))
        }

        var appliedNow: [Int] = []
        for migration in sorted where !alreadyApplied.contains(migration.version) {
            let didApply = try await self.client.withTransaction { session in
                try await self.lock(session)
                // Another migrator may have applied it since we looked.
                let existing = try await session.query(
                    "SELECT 1 FROM \(self.quotedTable) WHERE version = $1",
                    [migration.version]
                )
                guard existing.isEmpty else { return false }
                do {
                    try await session.execute(script: migration.sql)
                } catch var error as PostgresError {
                    error.message = "migration \(migration.version) (\(migration.name)) failed: \(error.message)"
                    throw error
                }
                try await session.query(
                    "INSERT INTO \(self.quotedTable) (version, name) VALUES ($1, $2)",
                    [migration.version, migration.name]
                )
                return true
            }
            if didApply {
                appliedNow.append(migration.version)
            }
        }
        return appliedNow
    }

    /// The versions recorded in the schema table, ascending (empty when the table does not exist).
    public func appliedVersions() async throws -> [Int] {
        try await self.client.withConnection { session in
            let exists = try await session.query("SELECT to_regclass($1) IS NOT NULL AS present", [self.quotedTable])
            guard let row = exists.first, try row.decode("present", as: Bool.self) else {
                return []
            }
            return try await self.versions(session)
        }
    }

    private func versions(_ session: PostgresSession) async throws -> [Int] {
        let rows = try await session.query("SELECT version FROM \(self.quotedTable) ORDER BY version")
        return try rows.map { try $0.decode("version", as: Int.self) }
    }

    /// Serialises migrators on the same table until the current transaction ends.
    private func lock(_ session: PostgresSession) async throws {
        try await session.query(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            ["traffic_police.migrations:" + self.table]
        )
    }
}

/// `part` as a quoted SQL identifier (embedded double quotes doubled).
private func quoteIdentifier(_ part: Substring) -> String {
    var quoted = "\""
    for character in part {
        if character == "\"" {
            quoted += "\"\""
        } else {
            quoted.append(character)
        }
    }
    return quoted + "\""
}
