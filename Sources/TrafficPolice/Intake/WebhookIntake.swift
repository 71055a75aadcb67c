import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The webhook intake (DESIGN.md section 4): HTTP/1.1 on the webhook Unix socket.
///
/// `POST /webhooks/luma` (signed), `POST /webhooks/eventbrite[/<secret>]` (unsigned thin ping),
/// `GET /healthz`, `GET /readyz`. A delivery is answered 202 only once `sink.enqueue` returned
/// (200 `{"status":"duplicate"}` for a repeat), 503 with Retry-After when the sink fails.
public struct WebhookIntake: Service {
    /// Everything intake needs to know; every field has a documented default.
    public struct Configuration: Sendable {
        /// Where to listen. Default `/run/traffic-police/webhook.sock`, mode 0660.
        public var socket: SocketBinding = .path("/run/traffic-police/webhook.sock")
        /// Body, header, timeout and connection limits (1 MiB body, 16 KiB headers, …).
        public var limits = HTTPServerLimits()
        /// Eventbrite; nil (no credentials) disables it: its route answers 503.
        public var eventbrite: Eventbrite? = nil
        /// Luma; nil (no webhook secret) disables it: its route answers 503.
        public var luma: Luma? = nil

        public init() {}

        /// Eventbrite's settings.
        public struct Eventbrite: Sendable {
            /// Only `api_url`s under this base are accepted (scheme, host, port, path prefix).
            public var apiURLPolicy: EventbriteAPIURLPolicy
            /// When set, the route is `POST /webhooks/eventbrite/<secret>`, and any other last
            /// segment is a 404, the plain path a 404 that says a secret path is configured:
            /// Eventbrite's "private, unpublished URL".
            public var pathSecret: String?

            /// The secret path as logs and answers show it: never the secret itself.
            public static let secretPathShown = "/webhooks/eventbrite/<eventbrite-webhook-secret>"

            /// The path Eventbrite must be given, as logs show it (the secret as a placeholder).
            public var webhookPathShown: String { pathSecret == nil ? "/webhooks/eventbrite" : Self.secretPathShown }

            /// Default base URL `https://www.eventbriteapi.com/v3`.
            public init(baseURL: String = "https://www.eventbriteapi.com/v3", pathSecret: String? = nil) throws {
                self.apiURLPolicy = try EventbriteAPIURLPolicy(baseURL: baseURL)
                self.pathSecret = pathSecret.flatMap { $0.isEmpty ? nil : $0 }
            }
        }

        /// Luma's settings.
        public struct Luma: Sendable {
            public var verifier: LumaSignatureVerifier

            public init(verifier: LumaSignatureVerifier) {
                self.verifier = verifier
            }

            /// The webhook secret (`luma-webhook-secret`), the scheme (default `t=…,v1=…`) and the
            /// timestamp tolerance (default 5 minutes).
            public init(
                secret: String, scheme: LumaSignatureVerifier.Scheme = .timestamped,
                tolerance: Duration = .seconds(300)
            ) throws {
                self.verifier = try LumaSignatureVerifier(secret: secret, scheme: scheme, tolerance: tolerance)
            }
        }
    }

    public let configuration: Configuration
    /// Fires once the socket is bound (send READY=1 after it).
    public let listening = ListeningSignal()
    private let sink: any DeliverySink
    private let readiness: @Sendable () async -> Bool
    private let onListening: (@Sendable () -> Void)?
    private let metrics: HTTPServerMetrics
    private let logger: Logger
    private let group: any EventLoopGroup
    private let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - sink: where accepted deliveries go (the Redis queue, or the spool in fail-safe).
    ///   - readiness: what `/readyz` reports (default: ready once listening).
    ///   - metricsFactory: where the counters go (default: the bootstrapped `MetricsSystem`).
    ///   - clock: the time used for signature tolerance and `receivedAtMilliseconds`.
    ///   - onListening: called once the socket is bound.
    public init(
        configuration: Configuration,
        sink: any DeliverySink,
        readiness: @escaping @Sendable () async -> Bool = { true },
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        logger: Logger = Logger(label: "traffic-police.intake"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        clock: @escaping @Sendable () -> Date = { Date() },
        onListening: (@Sendable () -> Void)? = nil
    ) {
        self.configuration = configuration
        self.sink = sink
        self.readiness = readiness
        self.metrics = HTTPServerMetrics(server: "intake", factory: metricsFactory)
        self.logger = logger
        self.group = eventLoopGroup
        self.clock = clock
        self.onListening = onListening
    }

    public func run() async throws {
        if let eventbrite = configuration.eventbrite {
            let plain = eventbrite.pathSecret == nil ? "" : " (the plain /webhooks/eventbrite answers 404)"
            logger.info(
                "Eventbrite webhooks: give Eventbrite the URL path POST \(eventbrite.webhookPathShown)\(plain)",
                metadata: ["PLATFORM": "eventbrite"])
        }
        let routes = WebhookRoutes(
            configuration: configuration, sink: sink, metricsFactory: metrics.factory, logger: logger, clock: clock)
        var all = routes.routes
        all += ProbeRoutes.routes(readiness: readiness, listening: listening)
        let server = UnixHTTPServer(
            binding: configuration.socket, router: Router(all), limits: configuration.limits, metrics: metrics,
            logger: logger, group: group)
        try await server.run(listening: listening, onListening: onListening)
    }
}
