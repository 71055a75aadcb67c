import PostgresBridge
import Testing

/// A marker error thrown from transaction bodies.
private struct BodyFailed: Error, Equatable {}

@Suite("PostgresClient against a real PostgreSQL", .serialized, .timeLimit(.minutes(1)))
struct PostgresClientTests {
    // MARK: Queries, parameters, decoding

    @Test func decodesEachTypeAndNull() async throws {
        let rows = try await TestPostgres.withClient(poolSize: 1) { client in
            try await client.query(
            """
            SELECT 'text'::text AS s, 42::int8 AS i, (-7)::int4 AS i32, 9223372036854775807::int8 AS i64,
                   true AS t, false AS f, 2.5::float8 AS d, NULL::int AS n
            """
            )
        }
        #expect(rows.columns == ["s", "i", "i32", "i64", "t", "f", "d", "n"])
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(try row.decode("s", as: String.self) == "text")
        #expect(try row.decode("i", as: Int.self) == 42)
        #expect(try row.decode("i32", as: Int32.self) == -7)
        #expect(try row.decode("i64", as: Int64.self) == Int64.max)
        #expect(try row.decode("t", as: Bool.self) == true)
        #expect(try row.decode("f", as: Bool.self) == false)
        #expect(try row.decode("d", as: Double.self) == 2.5)
        #expect(try row.decodeIfPresent("n", as: Int.self) == nil)
        #expect(try row.decodeIfPresent("i", as: Int.self) == 42)
        #expect(row["n"] == nil)
        #expect(row["nope"] == nil)
        #expect(row["t"] == "t")

        let null = #expect(throws: PostgresError.self) { try row.decode("n", as: Int.self) }
        #expect(null?.kind == .decodingFailed)
        #expect(null?.message.contains("\"n\"") == true)
        let missing = #expect(throws: PostgresError.self) { try row.decode("nope", as: Int.self) }
        #expect(missing?.kind == .decodingFailed)
        #expect(missing?.message.contains("\"nope\"") == true)
        let unparsable = #expect(throws: PostgresError.self) { try row.decode("s", as: Int.self) }
        #expect(unparsable?.kind == .decodingFailed)
        #expect(unparsable?.message.contains("\"s\"") == true)
    }

    @Test func parametersRoundTripAndInjectionStaysData() async throws {
        try await TestPostgres.withClient(poolSize: 2) { client in
            try await TestPostgres.withTable(
                "tp_params", "(id serial PRIMARY KEY, s text, i bigint, b boolean, d float8)", on: client
            ) { table in
                let strings: [String?] = [
                    "Robert'); DROP TABLE \(table); --",
                    "it's \"quoted\" \\ back; slash",
                    "ünïcødé 🚦 交通",
                    "",
                    "$1 ? %s",
                    nil,
                ]
                for (index, string) in strings.enumerated() {
                    try await client.query(
                        "INSERT INTO \(table) (s, i, b, d) VALUES ($1, $2, $3, $4)",
                        [string, index == 5 ? nil : Int.min + index, index % 2 == 0, Double(index) / 4]
                    )
                }
                let rows = try await client.query("SELECT s, i, b, d FROM \(table) ORDER BY id")
                #expect(rows.count == strings.count)
                for (index, row) in rows.enumerated() {
                    #expect(try row.decodeIfPresent("s", as: String.self) == strings[index])
                    #expect(try row.decodeIfPresent("i", as: Int.self) == (index == 5 ? nil : Int.min + index))
                    #expect(try row.decode("b", as: Bool.self) == (index % 2 == 0))
                    #expect(try row.decode("d", as: Double.self) == Double(index) / 4)
                }
            }

            // Echo through the server with every encodable type.
            let echo = try await client.query(
                "SELECT $1::text AS s, $2::int4 AS i32, $3::int8 AS i64, $4::bool AS b, $5::float8 AS d, $6::text AS n",
                ["a'b;c", Int32.min, Int64.max, false, -Double.infinity, nil]
            )
            let row = try #require(echo.first)
            #expect(try row.decode("s", as: String.self) == "a'b;c")
            #expect(try row.decode("i32", as: Int32.self) == Int32.min)
            #expect(try row.decode("i64", as: Int64.self) == Int64.max)
            #expect(try row.decode("b", as: Bool.self) == false)
            #expect(try row.decode("d", as: Double.self) == -.infinity)
            #expect(try row.decodeIfPresent("n", as: String.self) == nil)

            let nul = await #expect(throws: PostgresError.self) { try await client.query("SELECT $1::text", ["a\0b"]) }
            #expect(nul?.kind == .queryFailed)
        }
    }

    @Test func affectedRowsAndCommandTag() async throws {
        try await TestPostgres.withClient(poolSize: 1) { client in
            try await TestPostgres.withTable("tp_affected", "(n int)", on: client) { table in
                let insert = try await client.query("INSERT INTO \(table) SELECT generate_series(1, 5)")
                #expect(insert.affectedRows == 5)
                #expect(insert.isEmpty)
                let update = try await client.query("UPDATE \(table) SET n = n + 1 WHERE n > $1", [2])
                #expect(update.affectedRows == 3)
                #expect(update.commandTag == "UPDATE 3")
                let select = try await client.query("SELECT n FROM \(table) ORDER BY n")
                #expect(select.map { $0["n"] } == ["1", "2", "4", "5", "6"])
                #expect(select.affectedRows == 5)
                let create = try await client.query("CREATE INDEX ON \(table) (n)")
                #expect(create.affectedRows == 0)
            }
        }
    }

    // MARK: Errors

    @Test func errorsCarrySQLState() async throws {
        try await TestPostgres.withClient(poolSize: 1) { client in
            try await TestPostgres.withTable("tp_unique", "(id int PRIMARY KEY)", on: client) { table in
                try await client.query("INSERT INTO \(table) VALUES ($1)", [1])
                let unique = await #expect(throws: PostgresError.self) {
                    try await client.query("INSERT INTO \(table) VALUES ($1)", [1])
                }
                #expect(unique?.kind == .queryFailed)
                #expect(unique?.sqlState == "23505")
                #expect(unique?.isUniqueViolation == true)
                #expect(unique?.message.contains("duplicate key") == true)
                #expect(unique?.detail?.contains("(id)=(1)") == true)
            }

            let syntax = await #expect(throws: PostgresError.self) { try await client.query("SELEC 1") }
            #expect(syntax?.kind == .queryFailed)
            #expect(syntax?.sqlState == "42601")
            #expect(syntax?.isUniqueViolation == false)

            // The single pooled connection is still fine after the errors.
            #expect(try await client.query("SELECT 1 AS one").first?["one"] == "1")
        }
    }

    @Test func unreachableServerFailsPromptlyWithLibpqMessage() async throws {
        _ = try TestPostgres.url()
        let clock = ContinuousClock()
        let start = clock.now
        let refused = await #expect(throws: PostgresError.self) {
            try await TestPostgres.withClient(
                poolSize: 1, connectionString: "postgresql://postgres@127.0.0.1:1/traffic_police"
            ) { client in
                try await client.query("SELECT 1")
            }
        }
        #expect(refused?.kind == .connectionFailed)
        #expect(refused?.message.contains("127.0.0.1") == true)
        #expect(refused?.message.lowercased().contains("refused") == true)
        #expect(clock.now - start < .seconds(20))  // bounded, not timed: the machine is shared

    }

    @Test func connectTimeoutIsHonoured() async throws {
        _ = try TestPostgres.url()
        try await TestPostgres.withSilentListener { port in
            // The listener completes the TCP handshake but never answers the startup packet.
            let silent = PostgresClient(configuration: PostgresConfiguration(
                connectionString: "host=127.0.0.1 port=\(port) dbname=x user=x connect_timeout=60",
                poolSize: 1,
                connectTimeout: .seconds(2)
            ))
            let clock = ContinuousClock()
            let start = clock.now
            let timeout = await #expect(throws: PostgresError.self) { try await silent.query("SELECT 1") }
            let elapsed = clock.now - start
            #expect(timeout?.kind == .connectionFailed)
            #expect(timeout?.message.contains("timeout") == true)
            #expect(elapsed >= .seconds(1) && elapsed < .seconds(6), "took \(elapsed)")
            await silent.shutdown()
        }
    }

    @Test func unsupportedCopyIsAnErrorAndTheConnectionIsReplaced() async throws {
        try await TestPostgres.withClient(poolSize: 1) { client in
            let pid = try await client.query("SELECT pg_backend_pid() AS pid").first?.decode("pid", as: Int.self)
            let copy = await #expect(throws: PostgresError.self) { try await client.query("COPY (SELECT 1) TO STDOUT") }
            #expect(copy?.kind == .unexpectedResult)
            let newPID = try await client.query("SELECT pg_backend_pid() AS pid").first?.decode("pid", as: Int.self)
            #expect(newPID != nil)
            #expect(newPID != pid)
        }
    }

    @Test func scriptsRunSeveralStatements() async throws {
        try await TestPostgres.withClient(poolSize: 1) { client in
            let table = TestPostgres.uniqueName("tp_script")
            let count = try await client.withConnection { session in
                try await session.execute(script: "CREATE TABLE \(table) (v int); INSERT INTO \(table) VALUES (1), (2);")
                try await session.execute(script: "")
                let count = try await session.query("SELECT count(*) AS n FROM \(table)").first?.decode("n", as: Int.self)
                try await session.execute(script: "DROP TABLE \(table);")
                return count
            }
            #expect(count == 2)
            let error = await #expect(throws: PostgresError.self) {
                try await client.withConnection { try await $0.execute(script: "SELECT 1; SELECT * FROM tp_no_such_table;") }
            }
            #expect(error?.sqlState == "42P01")
        }
    }

    // MARK: Transactions

    @Test func transactionCommitsAndRollsBack() async throws {
        try await TestPostgres.withClient(poolSize: 1) { observer in
            try await TestPostgres.withClient(poolSize: 2) { client in
                try await TestPostgres.withTable("tp_tx", "(v text)", on: observer) { table in
                    let committed = try await client.withTransaction { session in
                        try await session.query("INSERT INTO \(table) VALUES ($1)", ["committed"])
                        return 7
                    }
                    #expect(committed == 7)

                    await #expect(throws: BodyFailed.self) {
                        try await client.withTransaction { session -> Void in
                            try await session.query("INSERT INTO \(table) VALUES ($1)", ["rolled back"])
                            // Visible inside the transaction, not outside it.
                            #expect(try await session.query("SELECT v FROM \(table)").count == 2)
                            #expect(try await observer.query("SELECT v FROM \(table)").count == 1)
                            throw BodyFailed()
                        }
                    }
                    let seen = try await observer.query("SELECT v FROM \(table)")
                    #expect(seen.map { $0["v"] } == ["committed"])
                }
            }
        }
    }

    @Test func failedStatementInsideTransactionMakesCommitThrow() async throws {
        try await TestPostgres.withClient(poolSize: 1) { client in
            let error = await #expect(throws: PostgresError.self) {
                try await client.withTransaction { session in
                    _ = try? await session.query("SELECT 1/0")
                    return 1
                }
            }
            #expect(error?.kind == .queryFailed)
            let two = try await client.query("SELECT 2 AS two").first?["two"]
            #expect(two == "2")
        }
    }

    @Test func openTransactionIsNeverReturnedToThePool() async throws {
        try await TestPostgres.withClient(poolSize: 1) { client in
            try await TestPostgres.withTable("tp_leak", "(v int)", on: client) { table in
                let pid = try await client.withConnection { session in
                    try await session.query("BEGIN")
                    try await session.query("INSERT INTO \(table) VALUES (1)")
                    return try await session.query("SELECT pg_backend_pid() AS pid").first?.decode("pid", as: Int.self)
                }
                // Same (only) connection, yet the insert is gone and no transaction is open.
                let after = try await client.withConnection { session in
                    let rows = try await session.query(
                        """
                        SELECT pg_backend_pid() AS pid, (SELECT count(*) FROM \(table)) AS n,
                               pg_current_xact_id_if_assigned() IS NULL AS fresh
                        """
                    )
                    return try #require(rows.first)
                }
                #expect(try after.decode("n", as: Int.self) == 0)
                #expect(try after.decode("fresh", as: Bool.self))
                #expect(try after.decode("pid", as: Int.self) == pid)
            }
        }
    }

    @Test func concurrentTransactionsOverThePool() async throws {
        try await TestPostgres.withClient(poolSize: 4) { client in
            try await TestPostgres.withTable("tp_ctx", "(task int, n int)", on: client) { table in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<12 {
                        group.addTask {
                            do {
                                try await client.withTransaction { session in
                                    for n in 0..<3 {
                                        try await session.query("INSERT INTO \(table) VALUES ($1, $2)", [task, n])
                                    }
                                    try await session.query("SELECT pg_sleep(0.02)")
                                    if task % 3 == 0 { throw BodyFailed() }
                                }
                            } catch is BodyFailed {}
                        }
                    }
                    try await group.waitForAll()
                }
                let rows = try await client.query("SELECT task, count(*) AS c FROM \(table) GROUP BY task ORDER BY task")
                let counts = try rows.map { (try $0.decode("task", as: Int.self), try $0.decode("c", as: Int.self)) }
                #expect(counts.map(\.0) == (0..<12).filter { $0 % 3 != 0 })
                #expect(counts.allSatisfy { $0.1 == 3 })
            }
        }
    }

    // MARK: Pool

    @Test func thirtyTwoTasksOverAPoolOfFour() async throws {
        let results = try await TestPostgres.withClient(poolSize: 4) { client in
            try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
                for task in 0..<32 {
                    group.addTask {
                        let rows = try await client.query(
                            "SELECT $1::int AS n, $2::text AS s, pg_backend_pid() AS pid, pg_sleep(0.02)::text AS z",
                            [task, "task \(task)"]
                        )
                        let row = try #require(rows.first)
                        #expect(try row.decode("s", as: String.self) == "task \(task)")
                        return (task, try row.decode("n", as: Int.self), try row.decode("pid", as: Int.self))
                    }
                }
                var results: [(Int, Int, Int)] = []
                for try await result in group { results.append(result) }
                return results
            }
        }
        #expect(results.count == 32)
        #expect(results.allSatisfy { $0.0 == $0.1 })
        #expect((1...4).contains(Set(results.map(\.2)).count))
    }

    @Test func waitersAreServedInOrderAndCancelledWaitersLeave() async throws {
        try await TestPostgres.withClient(poolSize: 1) { client in
            let held = Gate()
            let release = Gate()
            let holder = Task {
                try await client.withConnection { _ in
                    held.open()
                    await release.wait()
                }
            }
            await held.wait()

            let order = Recorder<Int>()
            var waiters: [Task<Void, any Error>] = []
            for index in 1...3 {
                waiters.append(Task {
                    try await client.withConnection { session in
                        order.append(index)
                        try await session.query("SELECT 1")
                    }
                })
                try await Task.sleep(for: .milliseconds(100))  // let it enqueue
            }
            let cancelled = Task {
                try await client.withConnection { _ in order.append(99) }
            }
            try await Task.sleep(for: .milliseconds(100))
            cancelled.cancel()
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            #expect(clock.now - start < .seconds(10))  // bounded, not timed: the machine is shared

            release.open()
            try await holder.value
            for waiter in waiters { try await waiter.value }
            #expect(order.all == [1, 2, 3])
        }
    }

    @Test func shutdownFailsWaitersAndLaterCalls() async throws {
        let client = try TestPostgres.client(poolSize: 1)
        try await client.query("SELECT 1")
        let held = Gate()
        let release = Gate()
        let holder = Task {
            try await client.withConnection { session in
                held.open()
                await release.wait()
                return try await session.query("SELECT 3 AS three").first?["three"]
            }
        }
        await held.wait()
        let waiter = Task { try await client.query("SELECT 1") }
        try await Task.sleep(for: .milliseconds(100))

        await client.shutdown()
        let waiterError = await #expect(throws: PostgresError.self) { try await waiter.value }
        #expect(waiterError?.kind == .shutdown)
        // The checked-out connection keeps working until its closure returns.
        release.open()
        #expect(try await holder.value == "3")

        let later = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
        #expect(later?.kind == .shutdown)
        await client.shutdown()  // idempotent
    }

    @Test func sessionIsUnusableAfterItsClosure() async throws {
        try await TestPostgres.withClient(poolSize: 1) { client in
            let escaped = try await client.withConnection { $0 }
            await #expect(throws: PostgresError.self) { try await escaped.query("SELECT 1") }
        }
    }

    // MARK: Connection strings and connection loss

    @Test func multiHostConnectionStringPassesThrough() async throws {
        let url = try TestPostgres.url()
        let multiHost = try #require(TestPostgres.multiHostURL(from: url))
        #expect(multiHost.contains("127.0.0.1:1,"))
        #expect(PostgresConfiguration(connectionString: multiHost).connectionString == multiHost)
        try await TestPostgres.withClient(poolSize: 1, connectionString: multiHost) { client in
            let row = try #require(try await client.query("SELECT current_setting('transaction_read_only') AS ro").first)
            #expect(row["ro"] == "off")
        }
        // The literal example from the design, when the test server is the standard one.
        if url.contains("127.0.0.1:15432/traffic_police") {
            let literal = "postgresql://127.0.0.1:1,127.0.0.1:15432/traffic_police?user=postgres&target_session_attrs=read-write"
            try await TestPostgres.withClient(poolSize: 1, connectionString: literal) { client in
                let one = try await client.query("SELECT 1 AS one").first?["one"]
                #expect(one == "1")
            }
        }
    }

    @Test func terminatedIdleConnectionIsReplaced() async throws {
        try await TestPostgres.withClient(poolSize: 1) { admin in
            try await TestPostgres.withClient(poolSize: 1) { client in
                let pid = try #require(
                    try await client.query("SELECT pg_backend_pid() AS pid").first?.decode("pid", as: Int.self)
                )
                let terminated = try await admin.query("SELECT pg_terminate_backend($1) AS ok", [pid])
                #expect(try terminated.first?.decode("ok", as: Bool.self) == true)
                #expect(try await TestPostgres.waitForBackendToExit(pid, using: admin))

                // The backend has exited, so the check-out health check sees EOF and the next call
                // transparently reconnects (were the server still closing it, the call could fail
                // with .connectionFailed instead)...
                let next = try await client.query("SELECT pg_backend_pid() AS pid")
                #expect(try next.first?.decode("pid", as: Int.self) != pid)
                // ...and the call after that succeeds too.
                let newPID = try await client.query("SELECT pg_backend_pid() AS pid").first?.decode("pid", as: Int.self)
                #expect(newPID != nil)
                #expect(newPID != pid)
            }
        }
    }

    @Test func connectionLostDuringSessionFailsThenIsReplaced() async throws {
        try await TestPostgres.withClient(poolSize: 1) { admin in
            try await TestPostgres.withClient(poolSize: 1) { client in
                let pid = try await client.withConnection { session in
                    let pid = try #require(
                        try await session.query("SELECT pg_backend_pid() AS pid").first?.decode("pid", as: Int.self)
                    )
                    try await admin.query("SELECT pg_terminate_backend($1)", [pid])
                    #expect(try await TestPostgres.waitForBackendToExit(pid, using: admin))
                    let error = await #expect(throws: PostgresError.self) { try await session.query("SELECT 1") }
                    #expect(error?.kind == .connectionFailed)
                    return pid
                }
                let newPID = try await client.query("SELECT pg_backend_pid() AS pid").first?.decode("pid", as: Int.self)
                #expect(newPID != nil)
                #expect(newPID != pid)
            }
        }
    }
}
