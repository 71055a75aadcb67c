import TrafficPoliceCore

/// One webhook delivery as intake accepted it: what the queue keeps durably and the workers apply.
public struct WebhookDelivery: Sendable, Hashable, Codable {
    /// The platform that sent it (Meetup deliveries come from the poller).
    public var platform: Platform
    /// What makes two deliveries the same: Luma's `Webhook-Id` (or the payload's type + guest id + body
    /// hash when absent), Eventbrite's `action` + `api_url`.
    public var dedupeKey: String
    /// The platform's event type (`guest.registered`, `ticket.registered`, `guest.updated`, `order.placed`, …).
    public var kind: String
    /// The raw request body (UTF-8 JSON), exactly as received.
    public var body: String
    /// When intake received it, in milliseconds since the Unix epoch.
    public var receivedAtMilliseconds: Int64

    public init(platform: Platform, dedupeKey: String, kind: String, body: String, receivedAtMilliseconds: Int64) {
        self.platform = platform
        self.dedupeKey = dedupeKey
        self.kind = kind
        self.body = body
        self.receivedAtMilliseconds = receivedAtMilliseconds
    }
}

/// What enqueueing a delivery did.
public enum EnqueueResult: Sendable, Hashable {
    /// Durable in the queue under this job id.
    case enqueued(jobID: String)
    /// A delivery with the same dedupe key was already accepted: nothing was added.
    case duplicate
}

/// Where intake puts deliveries. `DeliveryQueue` (Redis Streams) is the real one; the fail-safe
/// spool will be another. It returns only once the delivery is durable, so intake may answer 202.
public protocol DeliverySink: Sendable {
    func enqueue(_ delivery: WebhookDelivery) async throws -> EnqueueResult
}
