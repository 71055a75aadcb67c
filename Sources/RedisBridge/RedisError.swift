/// An error from the Redis bridge.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, coarsely.
    public enum Kind: Sendable, Hashable {
        /// The configuration (or URL) is not usable.
        case invalidConfiguration
        /// Connecting, authenticating or selecting the database failed.
        case connectionFailed
        /// The server did not answer within the command timeout; the connection was discarded.
        case timeout
        /// The connection broke (EOF, reset, write error); it was discarded.
        case connectionClosed
        /// The server sent something hiredis could not parse, or the request was malformed.
        case protocolError
        /// The server answered with an error reply.
        case serverError
        /// The client was shut down.
        case shutdown
    }

    /// What went wrong, coarsely.
    public var kind: Kind
    /// A human readable explanation (for `.serverError`, the server's error text).
    public var message: String

    /// Creates an error of the given kind.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String {
        "RedisError(\(self.kind)): \(self.message)"
    }
}

extension RedisError {
    static func invalidConfiguration(_ message: String) -> RedisError {
        RedisError(kind: .invalidConfiguration, message: message)
    }

    static let shutdown = RedisError(kind: .shutdown, message: "the Redis client has been shut down")
}
