import CurlBridge

/// What `EventbriteClient`, `LumaClient` and `MeetupClient` share: a transport, and sending any
/// prepared `PlatformCall` through it.
public protocol PlatformAPIClient: Sendable {
    /// The transport every call goes through (endpoint, admission hook).
    var transport: PlatformTransport { get }
    /// Creates a client over `transport`.
    init(transport: PlatformTransport)
}

extension PlatformAPIClient {
    /// Creates a client for `endpoint` on `client` (the caller owns and shuts down `client`);
    /// `admission` runs before each request is sent, e.g. to wait for the throttler.
    public init(client: CurlClient, endpoint: PlatformEndpoint, admission: PlatformTransport.Admission? = nil) {
        self.init(transport: PlatformTransport(client: client, endpoint: endpoint, admission: admission))
    }

    /// Sends any prepared call (e.g. one the throttler admitted first).
    public func perform<Result: Sendable>(_ call: PlatformCall<Result>) async throws -> Result {
        try await transport.perform(call)
    }
}
