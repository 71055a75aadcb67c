import Crypto
import CurlBridge
import Foundation
import Logging
import Metrics
import PlatformClients
import TrafficPoliceCore

/// The daemon's way out to the platforms (G7): a client per platform whose credentials are present,
/// each request admitted by the ``Throttler`` in the caller's lane before it is sent, and a 429 or
/// Meetup `RATE_LIMITED` pausing that platform's bucket for every instance until its reset.
///
/// Clients are cheap values: ask for one per piece of work, in the lane that work belongs to.
public struct PlatformGateway: Sendable {
    /// The endpoint of each platform that may be called (credentials present).
    public let endpoints: [Platform: PlatformEndpoint]
    public let throttler: Throttler
    private let curl: CurlClient
    private let logger: Logger

    /// How long a platform is paused after a rate-limit answer that says nothing of its reset
    /// (Eventbrite's 429 carries no Retry-After). Default 60 s.
    public var defaultPause: Duration = .seconds(60)

    /// Creates the gateway; the caller owns `curl` and shuts it down.
    public init(endpoints: [Platform: PlatformEndpoint], throttler: Throttler, curl: CurlClient, logger: Logger) {
        self.endpoints = endpoints
        self.throttler = throttler
        self.curl = curl
        self.logger = logger
    }

    /// The endpoints the configuration and credentials allow (`PlatformAvailability.callsAPI`).
    public static func endpoints(
        _ configuration: TrafficPoliceConfiguration.Platforms, credentials: Credentials
    ) -> [Platform: PlatformEndpoint] {
        let tokens: [Platform: Secret?] = [
            .eventbrite: credentials.eventbriteToken, .luma: credentials.lumaAPIKey, .meetup: credentials.meetupToken,
        ]
        var endpoints: [Platform: PlatformEndpoint] = [:]
        for platform in Platform.allCases where credentials.availability.callsAPI(platform) {
            guard let token = tokens[platform] ?? nil else { continue }
            endpoints[platform] = PlatformEndpoint(
                platform: platform, credential: PlatformCredential(token.revealed),
                baseURL: configuration.baseURL(platform).absoluteString)
        }
        return endpoints
    }

    /// The throttle account of a credential: a digest, never the credential itself.
    public static func account(of endpoint: PlatformEndpoint) -> String {
        let digest = SHA256.hash(data: Array(endpoint.credential.revealed.utf8))
        return "t" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Eventbrite's client for work in `lane`, or nil when Eventbrite is not enabled.
    public func eventbrite(_ lane: Lane) -> EventbriteClient? { client(.eventbrite, lane) }

    /// Luma's client for work in `lane`, or nil when Luma is not enabled (it needs both of its credentials).
    public func luma(_ lane: Lane) -> LumaClient? { client(.luma, lane) }

    /// Meetup's client for work in `lane`, or nil when Meetup is not enabled.
    public func meetup(_ lane: Lane) -> MeetupClient? { client(.meetup, lane) }

    private func client<Client: PlatformAPIClient>(_ platform: Platform, _ lane: Lane) -> Client? {
        guard let endpoint = endpoints[platform] else { return nil }
        return Client(transport: transport(endpoint, lane))
    }

    private func transport(_ endpoint: PlatformEndpoint, _ lane: Lane) -> PlatformTransport {
        let platform = endpoint.platform
        let account = Self.account(of: endpoint)
        let throttler = self.throttler
        let logger = self.logger
        let defaultPause = self.defaultPause
        let dimensions = [("platform", platform.rawValue), ("lane", lane.name)]
        return PlatformTransport(
            client: curl, endpoint: endpoint,
            admission: { request in
                let admission = try await throttler.acquire(
                    platform: platform, lane: lane, cost: max(1, request.cost), account: account)
                Counter(label: "traffic_police_platform_calls_total", dimensions: dimensions).increment()
                Counter(label: "traffic_police_throttle_cost_total", dimensions: dimensions)
                    .increment(by: max(1, request.cost))
                Timer(label: "traffic_police_throttle_wait_seconds", dimensions: dimensions)
                    .record(duration: admission.waited)
            },
            failure: { request, error in
                Counter(
                    label: "traffic_police_platform_call_failures_total",
                    dimensions: dimensions + [("class", error.className)]
                ).increment()
                guard case .rateLimited(let retryAfter, let resetAt, let detail) = error else { return }
                let pause = retryAfter ?? resetAt.map { .milliseconds(Int64(max(0, $0.timeIntervalSinceNow) * 1000)) }
                    ?? defaultPause
                logger.warning(
                    "rate-limited by the platform: pausing every instance's calls",
                    metadata: [
                        "PLATFORM": "\(platform.rawValue)", "PATH": "\(request.path)", "PAUSE": "\(pause)",
                        "DETAIL": "\(detail)",
                    ])
                do {
                    try await throttler.pause(platform: platform, for: pause, account: account)
                } catch {
                    logger.error("cannot pause the throttle", metadata: ["PLATFORM": "\(platform.rawValue)", "ERROR": "\(error)"])
                }
            })
    }
}

extension PlatformCallError {
    /// A metrics label for the error's class.
    var className: String {
        switch self {
        case .rateLimited: "rate_limited"
        case .retryable: "retryable"
        case .permanent: "permanent"
        case .unauthorized: "unauthorized"
        case .malformedResponse: "malformed_response"
        }
    }
}
