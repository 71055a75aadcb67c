import CurlBridge

/// Sends `PlatformCall`s for one endpoint through a shared `CurlClient`: the thin I/O shell
/// under `EventbriteClient`, `LumaClient` and `MeetupClient`.
public struct PlatformTransport: Sendable {
    /// Called with each request just before it is sent, e.g. to wait for the throttler to admit
    /// `request.cost`; whatever it throws is thrown by the call.
    public typealias Admission = @Sendable (PlatformRequest) async throws -> Void
    /// Called with each call that failed with a `PlatformCallError` (from the transfer or from
    /// decoding, e.g. Meetup's `RATE_LIMITED` in a 200 answer), before the error is thrown: e.g. to
    /// pause the platform until its rate-limit reset.
    public typealias FailureObserver = @Sendable (PlatformRequest, PlatformCallError) async -> Void

    /// Where calls go.
    public let endpoint: PlatformEndpoint
    private let client: CurlClient
    private let admission: Admission?
    private let failure: FailureObserver?

    /// Creates a transport; the caller owns `client` (and shuts it down).
    public init(
        client: CurlClient, endpoint: PlatformEndpoint, admission: Admission? = nil, failure: FailureObserver? = nil
    ) {
        self.client = client
        self.endpoint = endpoint
        self.admission = admission
        self.failure = failure
    }

    /// Admits, sends and decodes `call`. Throws `PlatformCallError`, `CancellationError`, or what
    /// the admission hook throws.
    public func perform<Result: Sendable>(_ call: PlatformCall<Result>) async throws -> Result {
        if let admission { try await admission(call.request) }
        do {
            let response: HTTPResponse
            do {
                response = try await client.execute(call.request.httpRequest(for: endpoint))
            } catch let error as CurlError {
                throw PlatformCallError(error)
            }
            return try call.decode(response)
        } catch let error as PlatformCallError {
            if let failure { await failure(call.request, error) }
            throw error
        }
    }
}
