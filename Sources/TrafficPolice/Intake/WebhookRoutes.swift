import Crypto
import Foundation
import Logging
import Metrics
import NIOHTTP1
import TrafficPoliceCore

/// The two webhook routes: verify (Luma) or check the `api_url` (Eventbrite), then enqueue.
struct WebhookRoutes: Sendable {
    let configuration: WebhookIntake.Configuration
    let sink: any DeliverySink
    let metricsFactory: any MetricsFactory
    let logger: Logger
    let clock: @Sendable () -> Date

    /// What the plain `POST /webhooks/eventbrite` answers while `eventbrite-webhook-secret` is set:
    /// a 404 that says why, without the secret.
    static let secretPathRequired = ServerResponse.error(
        .notFound, "secret_path_required",
        "Eventbrite webhooks are taken on \(WebhookIntake.Configuration.Eventbrite.secretPathShown) because the "
            + "eventbrite-webhook-secret credential is set: give Eventbrite that URL, with the secret")

    var routes: [Route] {
        var eventbritePattern = "/webhooks/eventbrite"
        var plainEventbrite: [Route] = []
        if configuration.eventbrite?.pathSecret != nil {
            eventbritePattern += "/{secret}"
            plainEventbrite = [
                Route(
                    .POST, "/webhooks/eventbrite", name: "eventbrite",
                    admit: { _, _ in Self.secretPathRequired }, handler: { _ in Self.secretPathRequired })
            ]
        }
        return plainEventbrite + [
            Route(
                .POST, "/webhooks/luma", name: "luma", requiresJSONBody: true,
                admit: { _, _ in configuration.luma == nil ? Self.disabled(.luma, configuration) : nil },
                handler: luma),
            Route(
                .POST, eventbritePattern, name: "eventbrite", requiresJSONBody: true,
                admit: { _, secret in
                    guard let eventbrite = configuration.eventbrite else { return Self.disabled(.eventbrite, configuration) }
                    if let expected = eventbrite.pathSecret, !Self.sameSecret(secret ?? "", expected) {
                        return .error(.notFound, "not_found", "no such route")
                    }
                    return nil
                },
                handler: eventbrite),
        ]
    }

    // MARK: Luma

    private func luma(_ request: ServerRequest) async -> ServerResponse {
        guard let luma = configuration.luma else { return Self.disabled(.luma, configuration) }
        let received = clock()
        let body = request.bodyBytes
        let verified: LumaSignatureVerifier.Verified
        do {
            verified = try luma.verifier.verify(header: { request.header($0) }, body: body, now: received)
        } catch {
            Counter(
                label: "traffic_police_intake_signature_failures_total",
                dimensions: [("platform", Platform.luma.rawValue), ("reason", error.code)], factory: metricsFactory
            ).increment()
            logger.warning("Luma delivery refused", metadata: ["PLATFORM": "luma", "reason": "\(error.code)"])
            return .error(.unauthorized, error.code, error.description)
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            return .error(.badRequest, "invalid_json", "the body is not UTF-8")
        }
        let envelope: LumaEnvelope
        do {
            envelope = try JSONDecoder().decode(LumaEnvelope.self, from: Data(body))
        } catch {
            return .error(.badRequest, "invalid_json", "the body is not a Luma webhook payload ({\"type\", \"data\"})")
        }
        guard Self.isToken(envelope.type) else {
            return .error(.badRequest, "invalid_payload", "the payload's type is not an event type")
        }
        let dedupeKey = verified.deliveryID ?? "sha256:" + Self.hex(SHA256.hash(data: body))
        return await enqueue(
            WebhookDelivery(
                platform: .luma, dedupeKey: dedupeKey, kind: envelope.type, body: text,
                receivedAtMilliseconds: Self.milliseconds(received)))
    }

    // MARK: Eventbrite

    private func eventbrite(_ request: ServerRequest) async -> ServerResponse {
        guard let eventbrite = configuration.eventbrite else { return Self.disabled(.eventbrite, configuration) }
        let received = clock()
        let body = request.bodyBytes
        guard let text = String(validating: body, as: UTF8.self) else {
            return .error(.badRequest, "invalid_json", "the body is not UTF-8")
        }
        let ping: EventbritePing
        do {
            ping = try JSONDecoder().decode(EventbritePing.self, from: Data(body))
        } catch {
            return .error(
                .badRequest, "invalid_json", "the body is not an Eventbrite webhook ({\"api_url\", \"config\": {\"action\"}})")
        }
        guard Self.isToken(ping.config.action) else {
            return .error(.badRequest, "invalid_payload", "config.action is not an action name")
        }
        guard eventbrite.apiURLPolicy.allows(ping.apiURL) else {
            Counter(
                label: "traffic_police_intake_rejected_api_urls_total", dimensions: [("platform", "eventbrite")],
                factory: metricsFactory
            ).increment()
            logger.warning("Eventbrite api_url refused", metadata: ["PLATFORM": "eventbrite"])
            return .error(
                .badRequest, "foreign_api_url",
                "api_url must lie under the configured Eventbrite API base URL (scheme, host, port and path)")
        }
        return await enqueue(
            WebhookDelivery(
                platform: .eventbrite, dedupeKey: ping.config.action + " " + ping.apiURL, kind: ping.config.action,
                body: text, receivedAtMilliseconds: Self.milliseconds(received)))
    }

    // MARK: Shared

    private func enqueue(_ delivery: WebhookDelivery) async -> ServerResponse {
        do {
            switch try await sink.enqueue(delivery) {
            case .enqueued(let jobID):
                return .json(.accepted, ["status": "accepted", "job_id": jobID])
            case .duplicate:
                return .status(.ok, "duplicate")
            }
        } catch {
            logger.warning(
                "delivery not durable, asking the platform to retry",
                metadata: ["PLATFORM": "\(delivery.platform.rawValue)", "error": "\(error)"])
            return .unavailable(
                "not_durable", "the delivery could not be stored; retry later",
                retryAfterSeconds: configuration.limits.retryAfterSeconds)
        }
    }

    private static func disabled(_ platform: Platform, _ configuration: WebhookIntake.Configuration) -> ServerResponse {
        .unavailable(
            "platform_disabled", "\(platform.rawValue) is not configured (no credentials)",
            retryAfterSeconds: configuration.limits.retryAfterSeconds)
    }

    /// Compares secrets in time independent of where they differ (digests have equal length).
    private static func sameSecret(_ given: String, _ expected: String) -> Bool {
        let left = SHA256.hash(data: Array(given.utf8))
        let right = SHA256.hash(data: Array(expected.utf8))
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }

    /// An event or action name: 1 to 100 characters of letters, digits, `.`, `_`, `-`.
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 100
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2E || byte == 0x5F || byte == 0x2D
            }
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}

/// The part of a Luma payload intake reads: `{"type": "...", ...}`.
private struct LumaEnvelope: Decodable {
    var type: String
}
