import CLibPQ
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One libpq connection with its own thread.
///
/// Every libpq call that may block runs on the connection's dedicated single-thread `NIOThreadPool`,
/// never on Swift's cooperative pool; callers await it through a continuation. The `PGconn` is owned
/// by a non-Sendable ``PostgresConnectionOwner`` kept behind a `Mutex`, so it is only ever touched by
/// one thread at a time.
final class PostgresConnection: Sendable {
    /// A number for diagnostics, unique within its client.
    let id: Int
    private let threadPool: NIOThreadPool
    private let owner: Mutex<PostgresConnectionOwner>
    private let isClosed = Atomic<Bool>(false)

    private init(id: Int) {
        self.id = id
        self.threadPool = NIOThreadPool(numberOfThreads: 1)
        self.owner = Mutex(PostgresConnectionOwner())
        self.threadPool.start()
    }

    deinit {
        // Safety net: a connection dropped without `close()` still stops its thread
        // (the owner's deinit calls PQfinish).
        if !self.isClosed.load(ordering: .acquiring) {
            self.threadPool.shutdownGracefully { _ in }
        }
    }

    /// Opens a connection (PQconnectdbParams on the new connection's own thread).
    static func connect(configuration: PostgresConfiguration, id: Int) async throws -> PostgresConnection {
        let connection = PostgresConnection(id: id)
        let connectionString = configuration.connectionString
        let connectTimeout = configuration.connectTimeoutKeywordValue
        do {
            try await connection.onThread { owner in
                try owner.open(connectionString: connectionString, connectTimeout: connectTimeout)
            }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Runs one parameterised statement (PQexecParams, text format).
    func query(_ sql: String, _ parameters: [String?]) async throws -> PostgresRows {
        try await self.onThread { owner in try owner.query(sql, parameters) }
    }

    /// Runs a multi-statement script (PQexec).
    func execute(script: String) async throws {
        try await self.onThread { owner in try owner.execute(script: script) }
    }

    /// Whether the idle connection still looks usable: reads anything the server sent while it was
    /// idle (such as the FATAL message of a terminated backend) and checks PQstatus.
    func checkHealth() async -> Bool {
        (try? await self.onThread { owner in owner.checkHealth() }) ?? false
    }

    /// Makes the connection fit to return to the pool: an open or failed transaction is rolled back.
    /// Returns false when the connection is broken or still not idle, so it must be discarded.
    func prepareForReuse() async -> Bool {
        (try? await self.onThread { owner in owner.prepareForReuse() }) ?? false
    }

    /// Closes the connection (PQfinish on its thread) and stops the thread. Idempotent.
    func close() async {
        guard !self.isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = try? await self.onThread { owner in owner.close() }
        try? await self.threadPool.shutdownGracefully()
    }

    /// Runs `body` with the owner on the connection's thread and resumes the caller with its result.
    ///
    /// Deliberately not cancellation-aware: once submitted, a libpq call runs to completion so the
    /// connection never ends up mid-protocol (and cleanup such as ROLLBACK always runs).
    private func onThread<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnectionOwner) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            self.threadPool.submit { state in
                switch state {
                case .active:
                    let result = Result<T, any Error> {
                        try self.owner.withLock { owner throws -> T in try body(owner) }
                    }
                    continuation.resume(with: result)
                case .cancelled:
                    continuation.resume(throwing: PostgresError(kind: .connectionFailed, message: "connection is closed"))
                }
            }
        }
    }
}

/// Transaction states reported by PQtransactionStatus that matter to the pool.
enum PostgresTransactionState: Sendable {
    case idle, inTransaction, failedTransaction, active, unknown
}

/// Owns one `PGconn` (not Sendable: used only on its connection's thread, behind a `Mutex`).
final class PostgresConnectionOwner {
    private var handle: OpaquePointer?
    /// Set when the protocol state is unknown (e.g. an unsupported COPY), so the connection is discarded.
    private var isPoisoned = false
    /// Receives libpq notices; outlives `handle` (which holds an unretained pointer to it).
    private let notices = NoticeState()

    init() {}

    deinit {
        if let handle = self.handle {
            PQfinish(handle)
        }
    }

    // MARK: Connecting and closing

    func open(connectionString: String, connectTimeout: String) throws {
        self.close()
        // `dbname` first with expand_dbname=1 expands the string (URI or key=value, multi-host
        // included) as libpq normally would; the later `connect_timeout` keyword overrides only that.
        let handle = try withCStringArray(["dbname", "connect_timeout", nil]) { keywords in
            try withCStringArray([connectionString, connectTimeout, nil]) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let handle else {
            throw PostgresError(kind: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = libpqErrorMessage(handle) ?? "could not connect to the server"
            PQfinish(handle)
            throw PostgresError(kind: .connectionFailed, message: message)
        }
        // Replaces the default notice processor, which prints NOTICEs to stderr; only a FATAL
        // arriving while idle (a terminated backend explaining itself) is remembered.
        PQsetNoticeReceiver(handle, noticeReceiver, Unmanaged.passUnretained(self.notices).toOpaque())
        self.handle = handle
        self.isPoisoned = false
    }

    func close() {
        if let handle = self.handle {
            PQfinish(handle)
            self.handle = nil
        }
    }

    // MARK: State

    var isUsable: Bool {
        guard let handle = self.handle, !self.isPoisoned else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    var transactionState: PostgresTransactionState {
        guard let handle = self.handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failedTransaction
        case PQTRANS_ACTIVE: return .active
        default: return .unknown
        }
    }

    func checkHealth() -> Bool {
        guard self.isUsable, let handle = self.handle else { return false }
        let socket = PQsocket(handle)
        guard socket >= 0 else { return false }
        // An idle connection has nothing to read unless the server sent something: a notification,
        // a parameter status, or the FATAL error of a terminated backend followed by EOF. Read and
        // parse it (PQisBusy parses; an error while idle goes to the notice receiver); EOF makes
        // PQstatus CONNECTION_BAD. Bounded: data then EOF takes two reads.
        self.notices.sawFatal = false
        for _ in 0..<4 {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 0)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { break }
            if PQconsumeInput(handle) == 0 { return false }
            _ = PQisBusy(handle)
            while let notification = PQnotifies(handle) {
                PQfreemem(notification)
            }
            if self.notices.sawFatal { return false }
        }
        return self.isUsable && self.transactionState == .idle
    }

    func prepareForReuse() -> Bool {
        guard self.isUsable else { return false }
        switch self.transactionState {
        case .idle:
            return true
        case .inTransaction, .failedTransaction:
            // Never hand an open transaction to the next user.
            _ = try? self.execute(script: "ROLLBACK")
            return self.isUsable && self.transactionState == .idle
        case .active, .unknown:
            return false
        }
    }

    // MARK: Statements

    func query(_ sql: String, _ parameters: [String?]) throws -> PostgresRows {
        let handle = try self.requireHandle()
        for (index, parameter) in parameters.enumerated() where parameter?.utf8.contains(0) == true {
            throw PostgresError(
                kind: .queryFailed,
                message: "parameter $\(index + 1) contains a NUL byte, which PostgreSQL text cannot hold"
            )
        }
        guard let count = Int32(exactly: parameters.count) else {
            throw PostgresError(kind: .queryFailed, message: "too many parameters (\(parameters.count))")
        }
        let result = try withCStringArray(parameters) { values in
            PQexecParams(handle, sql, count, nil, values, nil, nil, 0)
        }
        return try self.consume(result)
    }

    func execute(script: String) throws {
        let handle = try self.requireHandle()
        let result = PQexec(handle, script)
        _ = try self.consume(result)
    }

    private func requireHandle() throws -> OpaquePointer {
        guard let handle = self.handle else {
            throw PostgresError(kind: .connectionFailed, message: "connection is closed")
        }
        return handle
    }

    /// Copies `result` into Swift values (or an error) and clears it.
    private func consume(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let result else {
            throw self.connectionError(fallback: "no result from the server")
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            return makeRows(result)
        case PGRES_EMPTY_QUERY:
            return .empty
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            throw self.resultError(result)
        default:
            // COPY and other streaming modes are not supported; the protocol state is now unknown.
            self.isPoisoned = true
            let name = PQresStatus(status).map { String(cString: $0) } ?? "unknown"
            throw PostgresError(kind: .unexpectedResult, message: "unsupported result status \(name)")
        }
    }

    private func resultError(_ result: OpaquePointer) -> PostgresError {
        let sqlState = resultField(result, PG_DIAG_SQLSTATE)
        let primary = resultField(result, PG_DIAG_MESSAGE_PRIMARY)
        let detail = resultField(result, PG_DIAG_MESSAGE_DETAIL)
        let message = primary
            ?? PQresultErrorMessage(result).map { String(cString: $0).trimmedForPostgresMessage }.flatMap(nonEmpty)
            ?? self.handle.flatMap(libpqErrorMessage)
            ?? "statement failed"
        return PostgresError(
            kind: self.isUsable ? .queryFailed : .connectionFailed,
            message: message,
            sqlState: sqlState,
            detail: detail
        )
    }

    private func connectionError(fallback: String) -> PostgresError {
        let message = self.handle.flatMap(libpqErrorMessage) ?? fallback
        return PostgresError(kind: self.isUsable ? .queryFailed : .connectionFailed, message: message)
    }
}

// MARK: libpq helpers

/// What the notice receiver has seen (touched only on the connection's thread, inside libpq calls).
private final class NoticeState {
    var sawFatal = false
}

/// Drops notices, remembering a FATAL (sent by a backend that is about to close the connection).
private let noticeReceiver: PQnoticeReceiver = { argument, result in
    guard let argument, let result else { return }
    let severity = resultField(result, PG_DIAG_SEVERITY_NONLOCALIZED)
    if severity == "FATAL" || severity == "PANIC" {
        Unmanaged<NoticeState>.fromOpaque(argument).takeUnretainedValue().sawFatal = true
    }
}

/// `PG_DIAG_*` field codes are character macros ('C', 'M', 'D'); spelled out here.
private let PG_DIAG_SQLSTATE = Int32(UInt8(ascii: "C"))
private let PG_DIAG_MESSAGE_PRIMARY = Int32(UInt8(ascii: "M"))
private let PG_DIAG_MESSAGE_DETAIL = Int32(UInt8(ascii: "D"))
private let PG_DIAG_SEVERITY_NONLOCALIZED = Int32(UInt8(ascii: "V"))

private func resultField(_ result: OpaquePointer, _ field: Int32) -> String? {
    PQresultErrorField(result, field).map { String(cString: $0).trimmedForPostgresMessage }.flatMap(nonEmpty)
}

private func libpqErrorMessage(_ handle: OpaquePointer) -> String? {
    PQerrorMessage(handle).map { String(cString: $0).trimmedForPostgresMessage }.flatMap(nonEmpty)
}

private func nonEmpty(_ text: String) -> String? {
    text.isEmpty ? nil : text
}

/// Copies a text-format result into ``PostgresRows``.
private func makeRows(_ result: OpaquePointer) -> PostgresRows {
    let fieldCount = max(0, PQnfields(result))
    let rowCount = max(0, PQntuples(result))
    var columns: [String] = []
    columns.reserveCapacity(Int(fieldCount))
    for field in 0..<fieldCount {
        columns.append(PQfname(result, field).map { String(cString: $0) } ?? "?column?")
    }
    var cells: [String?] = []
    cells.reserveCapacity(Int(rowCount) * Int(fieldCount))
    for row in 0..<rowCount {
        for field in 0..<fieldCount {
            if PQgetisnull(result, row, field) != 0 {
                cells.append(nil)
            } else if let value = PQgetvalue(result, row, field) {
                let length = Int(max(0, PQgetlength(result, row, field)))
                let bytes = UnsafeRawBufferPointer(start: value, count: length)
                cells.append(String(decoding: bytes, as: UTF8.self))
            } else {
                cells.append(nil)
            }
        }
    }
    let affectedRows = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
    let commandTag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
    return PostgresRows(
        columns: columns,
        rowCount: Int(rowCount),
        cells: cells,
        affectedRows: affectedRows,
        commandTag: commandTag
    )
}

/// Calls `body` with a C array of NUL-terminated copies of `strings` (nil stays NULL), all in one
/// buffer that lives until `body` returns.
private func withCStringArray<R>(
    _ strings: [String?],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> R
) throws -> R {
    let totalBytes = strings.reduce(0) { $0 + ($1.map { $0.utf8.count + 1 } ?? 0) }
    let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(1, totalBytes))
    defer { buffer.deallocate() }
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(strings.count)
    var offset = 0
    for string in strings {
        guard let string else {
            pointers.append(nil)
            continue
        }
        let start = offset
        for byte in string.utf8 {
            buffer[offset] = CChar(bitPattern: byte)
            offset += 1
        }
        buffer[offset] = 0
        offset += 1
        pointers.append(buffer.baseAddress.map { UnsafePointer($0 + start) })
    }
    return try pointers.withUnsafeBufferPointer { pointerBuffer in
        guard let base = pointerBuffer.baseAddress else {
            // An empty array: hand libpq a valid pointer to a single NULL entry.
            var terminator: UnsafePointer<CChar>? = nil
            return try withUnsafePointer(to: &terminator) { try body($0) }
        }
        return try body(base)
    }
}
