import Foundation
import Logging
import TrafficPoliceCore

/// Applies Eventbrite deliveries (thin pings: `{"api_url": "<base>/orders/{id}/", "config": {"action"}}`).
///
/// The ping carries no quantity, so the order must be read: a worker never reads it itself (that
/// would cost one API call per order). It looks the order up among those the
/// ``EventbriteOrderResolver`` has read; when the order is not there yet, the job is parked (no
/// attempt spent) and the resolver — which reads every new order of an event in batches — puts it
/// back once it knows the order. A change to an order (refund, update) is answered only by a
/// reading made after the delivery arrived. Pings that name no order are acknowledged and ignored.
///
/// A resolved order with attendees is reserved; once reserved, a reading with fewer attendees than
/// the order holds (some refunded or cancelled: a partial refund) amends it down to them
/// (`EventDesk.amend`, version = when the order was read, so an older reading changes nothing);
/// a reading with none releases it. An overbooked order is flagged for the operator (``OverbookedOrders``).
public struct EventbriteOrderDelivery: Sendable {
    public let cache: EventbriteOrderCache
    public let apiURLPolicy: EventbriteAPIURLPolicy

    public init(cache: EventbriteOrderCache, apiURLPolicy: EventbriteAPIURLPolicy) {
        self.cache = cache
        self.apiURLPolicy = apiURLPolicy
    }

    /// What a delivery refers to: an order id, and the action.
    public struct Reference: Sendable, Hashable {
        public var orderID: String
        public var action: String
    }

    /// The order a delivery names; nil for pings about anything else (events, ticket classes, attendees).
    public func reference(_ delivery: WebhookDelivery) throws -> Reference? {
        guard let ping = try? JSONDecoder().decode(EventbritePing.self, from: Data(delivery.body.utf8)) else {
            throw MalformedPayload("not an Eventbrite webhook ({\"api_url\", \"config\": {\"action\"}})")
        }
        guard let orderID = apiURLPolicy.orderID(in: ping.apiURL) else { return nil }
        return Reference(orderID: orderID, action: ping.config.action)
    }

    func handle(_ delivery: WebhookDelivery, desk: EventDesk, overbooked: OverbookedOrders?, logger: Logger)
        async throws -> JobOutcome
    {
        let reference: Reference
        do {
            guard let found = try self.reference(delivery) else {
                return .applied("Eventbrite \(delivery.kind) names no order: nothing to apply")
            }
            reference = found
        } catch let error as MalformedPayload {
            return .rejected(error.reason)
        }
        guard let order = try await cache.orders([reference.orderID])[reference.orderID],
            order.answers(action: reference.action, receivedMilliseconds: delivery.receivedAtMilliseconds)
        else {
            return .parked("Eventbrite order \(reference.orderID) awaits the order resolver")
        }
        guard let event = try await desk.ledger.event(linkedTo: order.eventID, on: .eventbrite) else {
            return .ignored("no event is linked to Eventbrite event \(order.eventID) (order \(reference.orderID))")
        }
        var metadata: Logger.Metadata = [
            "EVENT_ID": "\(event)", "PLATFORM": "eventbrite", "ORDER_ID": "\(reference.orderID)",
        ]
        do {
            // Fewer attendees than the order holds: some were refunded or cancelled (a partial refund).
            if order.quantity > 0,
                let held = try await desk.reservations.order(
                    event: event, channel: .platform(.eventbrite), orderID: reference.orderID),
                !held.released, held.heldQuantity > order.quantity
            {
                let result = try await desk.amend(
                    event: event, platform: .eventbrite, orderID: reference.orderID, quantity: order.quantity,
                    version: order.readAtMilliseconds, source: .webhook)
                return .applied(result.summary)
            }
            if order.quantity > 0 {
                let result = try await desk.apply(
                    event: event, platform: .eventbrite, orderID: reference.orderID, quantity: order.quantity,
                    source: .webhook)
                metadata["OUTCOME"] = "\(result.outcome.rawValue)"
                if result.outcome == .overbooked && !result.duplicate {
                    if let overbooked {
                        await overbooked.handle(
                            event: event, platform: .eventbrite, orderID: reference.orderID, quantity: order.quantity)
                    } else {
                        logger.error(
                            "overbooked: the Eventbrite order must be refunded or cancelled by the operator",
                            metadata: metadata)
                    }
                }
                return .applied("\(result.outcome.rawValue)\(result.duplicate ? " (repeat)" : "") × \(result.quantity)")
            }
            let result = try await desk.release(
                event: event, platform: .eventbrite, orderID: reference.orderID, source: .webhook)
            return .applied("no tickets held: \(result.rawValue)")
        } catch let error as DomainError {
            return .rejected(error.message)
        }
    }
}
