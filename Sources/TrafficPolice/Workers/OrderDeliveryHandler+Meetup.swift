import Logging
import TrafficPoliceCore

extension OrderDeliveryHandler {
    /// Applies a Meetup RSVP job (one order per RSVP, order id = RSVP id, source `poll`) as an
    /// amendment to the RSVP's quantity now (`EventDesk.amend`): 1 + guests while YES or ATTENDED,
    /// else 0. So a first YES is reserved, a change of guests on a YES RSVP raises or lowers the
    /// order, a NO or WAITLIST releases it (or leaves a tombstone when it was never held), and a YES
    /// after NO is decided as a new order. The version is the RSVP's `updated` (ms; 0 when it does
    /// not parse), so a job retried after a newer state of the same RSVP was applied changes nothing.
    /// An increase nothing covers is refused (the order keeps what it held) and flagged (``OverbookedOrders``).
    /// No event linked to the Meetup event: ignored with a warning. A malformed body: rejected.
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
        let metadata: Logger.Metadata = [
            "EVENT_ID": "\(event)", "PLATFORM": "meetup", "ORDER_ID": "\(rsvp.id)", "STATUS": "\(rsvp.status)",
        ]
        do {
            let result = try await desk.amend(
                event: event, platform: .meetup, orderID: rsvp.id, quantity: rsvp.quantity,
                version: job.version, source: .poll)
            await reportOverbooking(result, event: event, platform: .meetup, metadata: metadata)
            guard rsvp.quantity > 0 else {
                switch result.change {
                case .decreased: return .applied("\(rsvp.status): released")
                case .stale: return .applied("\(rsvp.status): \(result.summary)")
                default: return .applied("\(rsvp.status): holds nothing")
                }
            }
            return .applied(result.summary)
        } catch let error as DomainError {
            return .rejected(error.message)
        }
    }
}
