/// One planned webhook delivery: built (and signed) when the sale or cancellation happens, then sent
/// by `WebhookDispatcher` after `delayMs`, `copies` times, each retried on failure.
public struct WebhookDelivery: Sendable {
    public var id: String
    public var platform: Platform
    /// `order.placed`, `guest.registered`, …
    public var type: String
    public var target: SimulatorConfiguration.WebhookTarget
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var delayMs: Int
    /// 2 when the duplicate knob fired.
    public var copies: Int
}

/// A delivery as `GET /control/webhooks` reports it.
public struct WebhookRecord: Sendable {
    public struct Attempt: Sendable {
        public var copy: Int
        public var attempt: Int
        public var time: Double
        /// The receiver's status, nil when the connection failed.
        public var status: Int?
        public var error: String?
    }

    public var id: String
    public var platform: Platform
    public var type: String
    /// The Eventbrite order id or Luma guest id the delivery is about.
    public var orderID: String
    public var target: String
    public var created: Double
    public var dropped: Bool
    public var duplicated: Bool
    public var attempts: [Attempt] = []

    /// The first attempt the receiver answered 2xx, if any.
    var acknowledgement: Attempt? { attempts.first { ($0.status ?? 0) / 100 == 2 } }

    /// The delivery as `GET /control/webhooks/outcomes` reports it.
    var outcomeJSON: JSON {
        [
            "id": .string(id), "platform": .string(platform.rawValue), "type": .string(type), "order_id": .string(orderID),
            "dropped": .bool(dropped), "duplicated": .bool(duplicated), "attempts": .int(attempts.count),
            "acknowledged": .bool(acknowledgement != nil),
            "acknowledged_at": .optional(acknowledgement.map { Timestamps.milliseconds($0.time) }),
            "acknowledged_status": .optional(acknowledgement?.status), "last_status": .optional(attempts.last?.status),
        ]
    }

    var json: JSON {
        let delivered = acknowledgement != nil
        return [
            "id": .string(id), "platform": .string(platform.rawValue), "type": .string(type),
            "target": .string(target), "created": .string(Timestamps.milliseconds(created)), "dropped": .bool(dropped),
            "duplicated": .bool(duplicated), "delivered": .bool(delivered),
            "last_status": .optional(attempts.last?.status),
            "attempts": .array(
                attempts.map {
                    [
                        "copy": .int($0.copy), "attempt": .int($0.attempt), "time": .string(Timestamps.milliseconds($0.time)),
                        "status": .optional($0.status), "error": .optional($0.error),
                    ]
                }),
        ]
    }
}

/// The pure decision for one delivery: dropped, duplicated, delay — drawn from the seeded generator.
public struct WebhookPlan: Equatable, Sendable {
    public var dropped: Bool
    public var duplicated: Bool
    public var delayMs: Int

    public static func draw(
        dropProbability: Double, duplicateProbability: Double, delayMinMs: Int, delayMaxMs: Int,
        random: inout SeededRandom
    ) -> WebhookPlan {
        let dropped = random.unit() < dropProbability
        let duplicated = random.unit() < duplicateProbability
        let span = max(delayMaxMs - delayMinMs, 0)
        let delay = delayMinMs + (span == 0 ? 0 : Int(random.next() % UInt64(span + 1)))
        return WebhookPlan(dropped: dropped, duplicated: duplicated, delayMs: delay)
    }
}
