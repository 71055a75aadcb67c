/// How a ``PostgresClient`` reaches its server and how many connections it keeps.
public struct PostgresConfiguration: Sendable {
    /// Passed to libpq unchanged (URI or key=value form, multi-host strings such as
    /// postgresql://h1:5432,h2:5432/db?target_session_attrs=read-write included).
    public var connectionString: String

    /// The most connections the pool opens (lazily, on demand). Values below 1 are treated as 1.
    public var poolSize: Int

    /// How long libpq may spend connecting to each host, rounded up to whole seconds
    /// (libpq treats 1 second as 2). Zero or negative waits indefinitely.
    ///
    /// Applied as an extra `connect_timeout` keyword after the connection string, so it wins over a
    /// `connect_timeout` inside the string, while the string itself is passed on unchanged.
    public var connectTimeout: Duration

    /// Creates a configuration; `poolSize` defaults to 4 and `connectTimeout` to 5 seconds.
    public init(connectionString: String, poolSize: Int = 4, connectTimeout: Duration = .seconds(5)) {
        self.connectionString = connectionString
        self.poolSize = max(1, poolSize)
        self.connectTimeout = connectTimeout
    }
}

extension PostgresConfiguration {
    /// The pool size actually used (at least 1).
    var effectivePoolSize: Int { max(1, self.poolSize) }

    /// The `connect_timeout` keyword value: whole seconds, rounded up; "0" (wait indefinitely) for
    /// zero or negative durations.
    var connectTimeoutKeywordValue: String {
        let (seconds, attoseconds) = self.connectTimeout.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) {
            return "0"
        }
        let rounded = attoseconds > 0 ? seconds + 1 : seconds
        return String(rounded)
    }
}
