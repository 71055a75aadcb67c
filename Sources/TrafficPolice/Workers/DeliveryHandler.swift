/// What a handler made of one delivery. A thrown error means "transient, try again later".
public enum JobOutcome: Sendable, Hashable {
    /// Applied (reservation or release, then ledger); the job is acked. The text says what happened.
    case applied(String)
    /// Nothing to do (e.g. a Luma event no one linked); the job is acked and a warning logged.
    case ignored(String)
    /// Cannot be applied yet (e.g. Eventbrite awaiting the order resolver): set aside, never lost.
    case parked(String)
    /// Can never succeed (malformed payload): dead-lettered now with the reason.
    case rejected(String)
}

/// Applies one delivery. Must be idempotent: a job may be handed out more than once.
public protocol DeliveryHandler: Sendable {
    func handle(_ delivery: WebhookDelivery) async throws -> JobOutcome
}
