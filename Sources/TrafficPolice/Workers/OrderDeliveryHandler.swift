import Logging
import RedisBridge
import TrafficPoliceCore

/// Applies deliveries to the event desk: the reservation (or release) in Redis, then the ledger —
/// both idempotent, so a job handed out twice changes nothing the second time.
///
/// - Luma guest deliveries are applied (one order per guest, see ``LumaGuestDelivery``). A guest
///   never seen is reserved. A known guest is amended (`EventDesk.amend`, version = when the
///   delivery was received) to its ticket count when the delivery is its current state — a
///   `guest.updated`, which is also what the Luma sweep queues — so a changed ticket count is
///   raised or lowered and a declined guest approved again comes back as a new order; from
///   `guest.registered` and `ticket.registered`, which describe the guest at registration and may
///   arrive late and in any order, only a raise of a held order is applied (a lower count, or an
///   approval after a decline, is a repeat: the sweep settles what the webhooks could not).
/// - A Luma delivery for an event no one linked is ignored with a warning (Luma webhooks are
///   calendar-wide, so other events' guests are expected; the nightly reconcile catches a late link).
/// - Eventbrite deliveries are applied once the order resolver has read their order
///   (``EventbriteOrderDelivery``); until then they are parked, never dead-lettered nor lost.
/// - Meetup RSVP jobs (from the ``MeetupPoller``) are applied: see `handleMeetup`.
/// - A new overbooked order and a refused amendment go to ``OverbookedOrders`` (waitlisted on Luma,
///   flagged otherwise); a repeat of either does nothing again.
public struct OrderDeliveryHandler: DeliveryHandler {
    public let desk: EventDesk
    /// Eventbrite's order look-ups; nil parks Eventbrite deliveries (Eventbrite not enabled).
    public let eventbrite: EventbriteOrderDelivery?
    /// What is done about orders nothing covers; nil only logs them as errors.
    public let overbooked: OverbookedOrders?
    let logger: Logger

    public init(
        desk: EventDesk, eventbrite: EventbriteOrderDelivery? = nil, overbooked: OverbookedOrders? = nil,
        logger: Logger? = nil
    ) {
        self.desk = desk
        self.eventbrite = eventbrite
        self.overbooked = overbooked
        self.logger = logger ?? Logger(label: "traffic-police.workers")
    }

    public func handle(_ delivery: WebhookDelivery) async throws -> JobOutcome {
        switch delivery.platform {
        case .luma:
            return try await handleLuma(delivery)
        case .eventbrite:
            guard let eventbrite else { return .parked("Eventbrite \(delivery.kind): Eventbrite is not enabled") }
            return try await eventbrite.handle(delivery, desk: desk, overbooked: overbooked, logger: logger)
        case .meetup:
            return try await handleMeetup(delivery)
        }
    }

    private func handleLuma(_ delivery: WebhookDelivery) async throws -> JobOutcome {
        let guest: LumaGuestDelivery
        do {
            guard let parsed = try LumaGuestDelivery.parse(delivery.body, kind: delivery.kind) else {
                return .applied("Luma \(delivery.kind) carries no order: nothing to apply")
            }
            guest = parsed
        } catch let error as MalformedPayload {
            return .rejected(error.reason)
        }
        guard let event = try await desk.ledger.event(linkedTo: guest.lumaEventID, on: .luma) else {
            return .ignored("no event is linked to Luma event \(guest.lumaEventID) (guest \(guest.guestID))")
        }
        var metadata: Logger.Metadata = [
            "EVENT_ID": "\(event)", "PLATFORM": "luma", "ORDER_ID": "\(guest.guestID)",
        ]
        // The guest sweep's corrections are recorded as reconciliation, not as webhooks.
        let source: OrderSource = delivery.dedupeKey.hasPrefix("luma-sweep:") ? .reconcile : .webhook
        do {
            switch guest.intent {
            case .reserve(let quantity):
                if let current = try await currentOrder(event: event, guestID: guest.guestID),
                    guest.isCurrentState || (!current.released && current.heldQuantity < quantity)
                {
                    let result = try await desk.amend(
                        event: event, platform: .luma, orderID: guest.guestID, quantity: quantity,
                        version: delivery.receivedAtMilliseconds, source: .webhook)
                    await reportOverbooking(result, event: event, platform: .luma, metadata: metadata)
                    return .applied(result.summary)
                }
                let result = try await desk.apply(
                    event: event, platform: .luma, orderID: guest.guestID, quantity: quantity, source: source)
                metadata["OUTCOME"] = "\(result.outcome.rawValue)"
                if result.outcome == .overbooked && !result.duplicate {
                    if let overbooked {
                        await overbooked.handle(
                            event: event, platform: .luma, orderID: guest.guestID, quantity: result.quantity)
                    } else {
                        logger.error("overbooked: the Luma guest must be cancelled or moved to the waitlist", metadata: metadata)
                    }
                }
                return .applied("\(result.outcome.rawValue)\(result.duplicate ? " (repeat)" : "") × \(result.quantity)")
            case .release:
                let result = try await desk.release(event: event, platform: .luma, orderID: guest.guestID, source: source)
                return .applied(result.rawValue)
            case .holdNothing(let status):
                guard try await holds(event: event, guestID: guest.guestID) else {
                    return .applied("\(status): holds nothing")
                }
                let result = try await desk.release(event: event, platform: .luma, orderID: guest.guestID, source: source)
                return .applied("\(status): \(result.rawValue)")
            }
        } catch let error as DomainError {
            return .rejected(error.message)
        }
    }

    /// Hands a refused amendment to ``overbooked`` (only logged without it).
    func reportOverbooking(_ result: AmendmentResult, event: EventID, platform: Platform, metadata: Logger.Metadata)
        async
    {
        guard let overbooked else {
            let name = platform.rawValue.prefix(1).uppercased() + platform.rawValue.dropFirst()
            result.logOverbooking(platform: name, logger: logger, metadata: metadata)
            return
        }
        guard result.change == .refused else { return }
        await overbooked.handle(
            event: event, platform: platform, orderID: result.order.orderID, quantity: result.order.target,
            held: result.quantity)
    }

    /// Whether the guest's order holds tickets now (Redis decides first, so it is asked too: the
    /// ledger may not have the order yet when a worker died between the two steps).
    private func holds(event: EventID, guestID: String) async throws -> Bool {
        if let order = try await desk.ledger.order(event, platform: .luma, orderID: guestID), order.heldQuantity > 0 {
            return true
        }
        return try await desk.reservations.order(event: event, channel: .platform(.luma), orderID: guestID)?
            .heldQuantity ?? 0 > 0
    }

    /// The guest's order as Redis holds it (it decides first), else as the ledger does; nil when never seen.
    private func currentOrder(event: EventID, guestID: String) async throws -> OrderRecord? {
        if let order = try await desk.reservations.order(event: event, channel: .platform(.luma), orderID: guestID) {
            return order
        }
        return try await desk.ledger.order(event, platform: .luma, orderID: guestID)
    }
}
