import NIOCore

/// The bounds a server on a Unix socket puts on its clients.
public struct HTTPServerLimits: Sendable, Hashable {
    /// A body over this many bytes is answered 413: from its Content-Length, or as soon as a
    /// streamed body passes it. Default 1 MiB.
    public var maxBodyBytes: Int = 1 << 20
    /// The request line plus headers may take this many bytes; beyond it the answer is 431.
    /// Default 16 KiB.
    public var maxHeaderBytes: Int = 16 << 10
    /// At most this many header fields (431 beyond). Default 100.
    public var maxHeaderCount: Int = 100
    /// No byte received for this long while a request is partly read: 408 and close. Default 10 s.
    public var readTimeout: TimeAmount = .seconds(10)
    /// A request must arrive completely within this long of its first byte (stops clients that
    /// trickle a byte at a time): 408 and close. Default 30 s.
    public var requestTimeout: TimeAmount = .seconds(30)
    /// A connection with no traffic at all for this long, and no request in progress, is closed
    /// quietly. Default 60 s.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// Connections served at once; one more is answered 503 and closed. Default 256.
    public var maxConnections: Int = 256
    /// How long shutdown waits for in-flight requests before closing what is left. Default 10 s.
    public var shutdownGracePeriod: TimeAmount = .seconds(10)
    /// The `Retry-After` seconds sent with a 503. Default 5.
    public var retryAfterSeconds: Int = 5

    public init() {}
}
