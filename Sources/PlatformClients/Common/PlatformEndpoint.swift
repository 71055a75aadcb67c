import TrafficPoliceCore

/// Where and how one platform's API is called: its root URL (paths are appended), the credential,
/// TLS verification and timeouts.
public struct PlatformEndpoint: Sendable, CustomStringConvertible {
    /// The platform this endpoint belongs to; decides the auth header.
    public var platform: Platform
    /// The API root as DESIGN.md section 6 gives it, without a trailing `/` (one is dropped).
    public var baseURL: String
    /// The token (Eventbrite, Meetup) or API key (Luma).
    public var credential: PlatformCredential
    /// Whether the server certificate and host name are verified. Default true.
    public var verifyTLS: Bool
    /// Limit for establishing a connection (TLS included). Default 5 s.
    public var connectTimeout: Duration
    /// Limit for a whole call. Default 20 s.
    public var timeout: Duration

    /// Creates an endpoint; `baseURL` defaults to the platform's public API root.
    public init(
        platform: Platform,
        credential: PlatformCredential,
        baseURL: String? = nil,
        verifyTLS: Bool = true,
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(20)
    ) {
        var root = baseURL ?? Self.defaultBaseURL(for: platform)
        while root.hasSuffix("/") { root.removeLast() }
        self.platform = platform
        self.baseURL = root
        self.credential = credential
        self.verifyTLS = verifyTLS
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    /// The public API roots (DESIGN.md section 6): Eventbrite `https://www.eventbriteapi.com/v3`,
    /// Luma `https://public-api.luma.com`, Meetup the GraphQL endpoint `https://api.meetup.com/gql-ext`.
    public static func defaultBaseURL(for platform: Platform) -> String {
        switch platform {
        case .eventbrite: "https://www.eventbriteapi.com/v3"
        case .luma: "https://public-api.luma.com"
        case .meetup: "https://api.meetup.com/gql-ext"
        }
    }

    /// The header that carries the credential: `Authorization: Bearer …` or `x-luma-api-key: …`.
    var authorizationHeader: (name: String, value: String) {
        switch platform {
        case .eventbrite, .meetup: ("Authorization", "Bearer \(credential.revealed)")
        case .luma: ("x-luma-api-key", credential.revealed)
        }
    }

    public var description: String {
        "PlatformEndpoint(\(platform.rawValue) \(baseURL), verifyTLS: \(verifyTLS), credential: <redacted>)"
    }
}
