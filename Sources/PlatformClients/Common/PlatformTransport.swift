import CurlBridge

/// Sends `PlatformCall`s for one endpoint through a shared `CurlClient`: the thin I/O shell
/// under `EventbriteClient`, `LumaClient` and `MeetupClient`.
public struct PlatformTransport: Sendable {
    /// Called with each request just before it is sent, e.g. to wait for the throttler to admit
    /// `request.cost`; whatever it throws is thrown by the call.
    public typealias Admission = @Sendable (PlatformRequest) async throws -> Void

    /// Where calls go.
    public let endpoint: PlatformEndpoint
    private let client: CurlClient
    private let admission: Admission?

    /// Creates a transport; the caller owns `client` (and shuts it down).
    public init(client: CurlClient, endpoint: PlatformEndpoint, admission: Admission? = nil) {
        self.client = client
        self.endpoint = endpoint
        self.admission = admission
    }

    /// Admits, sends and decodes `call`. Throws `PlatformCallError`, `CancellationError`, or what
    /// the admission hook throws.
    public func perform<Result: Sendable>(_ call: PlatformCall<Result>) async throws -> Result {
        if let admission { try await admission(call.request) }
        let response: HTTPResponse
        do {
            response = try await client.execute(call.request.httpRequest(for: endpoint))
        } catch let error as CurlError {
            throw PlatformCallError(error)
        }
        return try call.decode(response)
    }
}
