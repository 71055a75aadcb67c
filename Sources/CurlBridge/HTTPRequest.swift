/// One HTTP request for `CurlClient.execute(_:)`.
public struct HTTPRequest: Sendable {
    /// The request method, e.g. "GET" or "POST" (an HTTP token).
    public var method: String
    /// The absolute `http://` or `https://` URL.
    public var url: String
    /// Request headers in order; names must not contain ':' and neither part CR or LF.
    public var headers: [(name: String, value: String)]
    /// The request body, sent as-is (no Content-Type is added unless given in `headers`).
    public var body: [UInt8]?
    /// Limit for establishing the connection (including TLS).
    public var connectTimeout: Duration
    /// Limit for the whole transfer.
    public var timeout: Duration
    /// Whether the server certificate and host name are verified (CURLOPT_SSL_VERIFYPEER/HOST).
    public var verifyTLS: Bool

    /// Creates a request with a 5 s connect timeout, 30 s total timeout and TLS verification on.
    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = .seconds(5)
        self.timeout = .seconds(30)
        self.verifyTLS = true
    }
}
