import PostgresBridge
import Testing

@Suite("PostgresMigrator against a fresh database", .serialized, .timeLimit(.minutes(1)))
struct PostgresMigratorTests {
    static let migrations = [
        PostgresMigration(version: 1, name: "create_items", sql: "CREATE TABLE items (id int PRIMARY KEY, label text);"),
        PostgresMigration(
            version: 2, name: "seed_items",
            sql: "INSERT INTO items VALUES (1, 'one'); INSERT INTO items VALUES (2, 'it''s; two');"
        ),
        PostgresMigration(version: 3, name: "add_note", sql: "ALTER TABLE items ADD COLUMN note text;"),
    ]

    @Test func appliesOnceAndRecordsEachVersion() async throws {
        try await TestPostgres.withFreshDatabase { url in
            try await TestPostgres.withClient(poolSize: 2, connectionString: url) { client in
                let migrator = PostgresMigrator(client: client)
                #expect(try await migrator.appliedVersions() == [])
                // Given out of order; applied in version order.
                let first = try await migrator.apply(Self.migrations.reversed())
                #expect(first == [1, 2, 3])
                let second = try await migrator.apply(Self.migrations)
                #expect(second == [])
                #expect(try await migrator.appliedVersions() == [1, 2, 3])

                let records = try await client.query(
                    "SELECT version, name, applied_at IS NOT NULL AS stamped FROM schema_migrations ORDER BY version"
                )
                #expect(try records.map { try $0.decode("version", as: Int.self) } == [1, 2, 3])
                #expect(records.map { $0["name"] } == ["create_items", "seed_items", "add_note"])
                #expect(try records.allSatisfy { try $0.decode("stamped", as: Bool.self) })
                let items = try await client.query("SELECT label, note FROM items ORDER BY id")
                #expect(items.map { $0["label"] } == ["one", "it's; two"])
            }
        }
    }

    @Test func failingMigrationRollsBackAndKeepsEarlierOnes() async throws {
        try await TestPostgres.withFreshDatabase { url in
            try await TestPostgres.withClient(poolSize: 2, connectionString: url) { client in
                let migrator = PostgresMigrator(client: client, table: "tp_migrations")
                let broken = PostgresMigration(
                    version: 2, name: "half_done",
                    sql: "CREATE TABLE half (id int); INSERT INTO half VALUES (1); SELEC oops;"
                )
                let error = await #expect(throws: PostgresError.self) {
                    try await migrator.apply([Self.migrations[0], broken, Self.migrations[2]])
                }
                #expect(error?.kind == .queryFailed)
                #expect(error?.sqlState == "42601")
                #expect(error?.message.contains("migration 2 (half_done)") == true)
                #expect(try await migrator.appliedVersions() == [1])
                let half = try await client.query("SELECT to_regclass('half') IS NULL AS absent")
                #expect(try half.first?.decode("absent", as: Bool.self) == true)

                // Fixed, the rest applies.
                #expect(try await migrator.apply(Self.migrations) == [2, 3])
                #expect(try await migrator.appliedVersions() == [1, 2, 3])
            }
        }
    }

    @Test func concurrentMigratorsApplyEachVersionOnce() async throws {
        try await TestPostgres.withFreshDatabase { url in
            let migrations = [
                PostgresMigration(version: 1, name: "log", sql: "CREATE TABLE log (version int);"),
            ] + (2...8).map { version in
                PostgresMigration(
                    version: version, name: "step_\(version)",
                    sql: "INSERT INTO log VALUES (\(version)); SELECT pg_sleep(0.02);"
                )
            }
            try await TestPostgres.withClient(poolSize: 2, connectionString: url) { first in
                try await TestPostgres.withClient(poolSize: 2, connectionString: url) { second in
                    async let a = PostgresMigrator(client: first).apply(migrations)
                    async let b = PostgresMigrator(client: second).apply(migrations)
                    let (appliedByA, appliedByB) = try await (a, b)
                    #expect((appliedByA + appliedByB).sorted() == Array(1...8))
                    #expect(Set(appliedByA).isDisjoint(with: appliedByB))
                    let log = try await first.query("SELECT version, count(*) AS c FROM log GROUP BY version ORDER BY version")
                    #expect(try log.map { try $0.decode("version", as: Int.self) } == Array(2...8))
                    #expect(try log.allSatisfy { try $0.decode("c", as: Int.self) == 1 })
                    #expect(try await PostgresMigrator(client: first).appliedVersions() == Array(1...8))
                }
            }
        }
    }

    @Test func duplicateVersionsAreRejectedBeforeApplyingAnything() async throws {
        try await TestPostgres.withFreshDatabase { url in
            try await TestPostgres.withClient(poolSize: 1, connectionString: url) { client in
                let migrator = PostgresMigrator(client: client)
                let error = await #expect(throws: PostgresError.self) {
                    try await migrator.apply(Self.migrations + [PostgresMigration(version: 2, name: "again", sql: "SELECT 1")])
                }
                #expect(error?.message.contains("duplicate migration version 2") == true)
                let applied = try await migrator.appliedVersions()
                #expect(applied == [])
            }
        }
    }
}
