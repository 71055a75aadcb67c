/// An error from the PostgreSQL bridge: a failed connection or statement, an unexpected result,
/// a value that could not be decoded, or a client that has been shut down.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, broadly.
    public enum Kind: Sendable, Hashable {
        /// Connecting failed, or the connection was lost while a statement ran.
        case connectionFailed
        /// The server rejected a statement (see ``PostgresError/sqlState``).
        case queryFailed
        /// The server answered in a way the bridge does not handle (e.g. COPY), or input was invalid.
        case unexpectedResult
        /// A column value was NULL, missing or not parsable as the requested type.
        case decodingFailed
        /// The client has been shut down.
        case shutdown
    }

    /// What went wrong, broadly.
    public var kind: Kind
    /// The SQLSTATE code (PG_DIAG_SQLSTATE), e.g. "23505" for unique_violation.
    public var sqlState: String?
    /// The primary message (PG_DIAG_MESSAGE_PRIMARY or PQerrorMessage), trimmed.
    public var message: String
    /// The server's detail message (PG_DIAG_MESSAGE_DETAIL), if any.
    public var detail: String?

    /// Creates an error.
    public init(kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
    }

    /// Whether this is a unique_violation (SQLSTATE 23505).
    public var isUniqueViolation: Bool { self.sqlState == "23505" }

    public var description: String {
        var text = "PostgresError.\(self.kind)"
        if let sqlState = self.sqlState {
            text += " [\(sqlState)]"
        }
        text += ": \(self.message)"
        if let detail = self.detail, !detail.isEmpty {
            text += " (\(detail))"
        }
        return text
    }

    /// The error thrown once the client has been shut down.
    static var shutdown: PostgresError {
        PostgresError(kind: .shutdown, message: "the PostgreSQL client has been shut down")
    }
}

extension String {
    /// The string without leading and trailing whitespace and newlines (libpq messages end in "\n").
    var trimmedForPostgresMessage: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace {
            scalars.removeFirst()
        }
        while let last = scalars.last, last.properties.isWhitespace {
            scalars.removeLast()
        }
        return String(scalars)
    }
}
