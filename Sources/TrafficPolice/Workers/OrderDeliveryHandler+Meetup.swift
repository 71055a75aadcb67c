import Logging
import RedisBridge
import TrafficPoliceCore

extension OrderDeliveryHandler {
    /// Applies a Meetup RSVP job (one order per RSVP, order id = RSVP id, source `poll`):
    ///
    /// - quantity > 0 (YES or ATTENDED, 1 + guests): the reservation step. A repeat of an order whose
    ///   first quantity differs (guests added or removed on a YES RSVP), or of an order already
    ///   released (YES again after NO), is **parked** with the reason: the reservation script keeps an
    ///   order's first outcome and quantity and never reserves a released order again, so neither
    ///   can be applied as such; parked jobs are kept, never lost, for an operator or the reconcile.
    /// - quantity 0 (WAITLIST, NO, …): releases the order when it is known and not yet released;
    ///   an RSVP never reserved is left alone — no tombstone, so that the usual WAITLIST → YES (or a
    ///   member's NO → YES) is reserved when it comes.
    /// - No event linked to the Meetup event: ignored with a warning. A malformed body: rejected.
    func handleMeetup(_ delivery: WebhookDelivery) async throws -> JobOutcome {
        guard delivery.kind == MeetupRSVPDelivery.kind else {
            return .rejected("a Meetup job of kind '\(delivery.kind)': only '\(MeetupRSVPDelivery.kind)' is known")
        }
        let job: MeetupRSVPDelivery
        do {
            job = try MeetupRSVPDelivery.parse(delivery.body)
        } catch let error as MalformedPayload {
            return .rejected(error.reason)
        }
        let rsvp = job.rsvp
        guard let event = try await desk.ledger.event(linkedTo: job.meetupEventID, on: .meetup) else {
            return .ignored("no event is linked to Meetup event \(job.meetupEventID) (RSVP \(rsvp.id))")
        }
        var metadata: Logger.Metadata = [
            "EVENT_ID": "\(event)", "PLATFORM": "meetup", "ORDER_ID": "\(rsvp.id)", "STATUS": "\(rsvp.status)",
        ]
        do {
            let quantity = rsvp.quantity
            guard quantity > 0 else {
                let state = try await orderState(event: event, platform: .meetup, orderID: rsvp.id)
                guard state.known && !state.released else {
                    return .applied("\(rsvp.status): holds nothing")
                }
                let result = try await desk.release(event: event, platform: .meetup, orderID: rsvp.id, source: .poll)
                return .applied("\(rsvp.status): \(result.rawValue)")
            }
            let result = try await desk.apply(
                event: event, platform: .meetup, orderID: rsvp.id, quantity: quantity, source: .poll)
            metadata["OUTCOME"] = "\(result.outcome.rawValue)"
            guard result.duplicate else {
                if result.outcome == .overbooked {
                    logger.error("overbooked: the Meetup RSVP must be cancelled or moved to the waitlist", metadata: metadata)
                }
                return .applied("\(result.outcome.rawValue) × \(result.quantity)")
            }
            if try await orderState(event: event, platform: .meetup, orderID: rsvp.id).released {
                logger.error("a released Meetup RSVP is YES again: not reserved; parked", metadata: metadata)
                return .parked(
                    "RSVP \(rsvp.id) is \(rsvp.status) again (\(quantity) tickets) after it was released: the "
                        + "reservation script does not reserve a released order again")
            }
            if result.quantity != quantity {
                logger.error("a Meetup RSVP changed its guests: its quantity is not changed; parked", metadata: metadata)
                return .parked(
                    "RSVP \(rsvp.id) now holds \(quantity) tickets (1 + \(rsvp.guestsCount) guests) but was applied "
                        + "as \(result.quantity) (\(result.outcome.rawValue)): the reservation script keeps an order's "
                        + "first quantity")
            }
            return .applied("\(result.outcome.rawValue) (repeat) × \(result.quantity)")
        } catch let error as DomainError {
            return .rejected(error.message)
        }
    }

    /// Whether an order was ever recorded and whether it was released, from the ledger and Redis
    /// (Redis decides first, so the ledger may not have it yet; a release is written to the ledger first).
    func orderState(event: EventID, platform: Platform, orderID: String) async throws -> (known: Bool, released: Bool) {
        let recorded = try await desk.ledger.order(event, platform: platform, orderID: orderID)
        if let recorded, recorded.released { return (true, true) }
        let reply = try await desk.reservations.redis.send(
            ["HGET", EventKeys(event).orders, OrderRecord.key(.platform(platform), orderID)])
        guard let encoded = reply.string else { return (recorded != nil, false) }
        // `outcome|quantity|excess|released`
        let parts = encoded.split(separator: "|", omittingEmptySubsequences: false)
        return (true, parts.count == 4 && parts[3] == "1")
    }
}
