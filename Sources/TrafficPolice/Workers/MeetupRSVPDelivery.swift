import Foundation
import PlatformClients
import TrafficPoliceCore

/// One state of one Meetup RSVP as the poller queues it (Meetup sends no webhooks): the job's body
/// is `{"eventId": <Meetup event id>, "rsvp": {"id", "status", "guestsCount", "updated"}}`, its kind
/// `rsvp`, its dedupe key `meetup:` + the RSVP's fingerprint (id + status + guests + updated).
public struct MeetupRSVPDelivery: Sendable, Hashable {
    /// The job kind the poller uses.
    public static let kind = "rsvp"

    /// Meetup's event id, as linked with `event link --platform meetup --platform-event`.
    public var meetupEventID: String
    /// The RSVP (order id = RSVP id; quantity by the core rule).
    public var rsvp: MeetupRSVP

    public init(meetupEventID: String, rsvp: MeetupRSVP) {
        self.meetupEventID = meetupEventID
        self.rsvp = rsvp
    }

    /// The amendment version of this state: the RSVP's `updated` in ms since 1970, 0 when it does not parse.
    public var version: Int64 {
        guard let date = PlatformDate.parse(rsvp.updated) else { return 0 }
        return min(max(Int64((date.timeIntervalSince1970 * 1000).rounded()), 0), EventStock.maximumVersion)
    }

    /// The queue's dedupe key: one job per distinct state of an RSVP.
    public var dedupeKey: String { "meetup:" + rsvp.fingerprint }

    /// The job body (JSON, keys sorted).
    public var body: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = Payload(
            eventId: meetupEventID,
            rsvp: .init(id: rsvp.id, status: rsvp.status, guestsCount: rsvp.guestsCount, updated: rsvp.updated))
        // Strings and integers only: encoding cannot fail.
        return (try? encoder.encode(payload)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The queue job for this RSVP state.
    public func delivery(receivedAtMilliseconds: Int64) -> WebhookDelivery {
        WebhookDelivery(
            platform: .meetup, dedupeKey: dedupeKey, kind: Self.kind, body: body,
            receivedAtMilliseconds: receivedAtMilliseconds)
    }

    /// Parses a job body; throws ``MalformedPayload`` when it is not one the poller writes.
    public static func parse(_ body: String) throws -> MeetupRSVPDelivery {
        let payload: Payload
        do {
            payload = try JSONDecoder().decode(Payload.self, from: Data(body.utf8))
        } catch {
            throw MalformedPayload("the body is not a Meetup RSVP job: \(error)")
        }
        let eventID = payload.eventId.trimmingCharacters(in: .whitespaces)
        guard !eventID.isEmpty else { throw MalformedPayload("Meetup RSVP job without an event id (`eventId`)") }
        let id = payload.rsvp.id.trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty else { throw MalformedPayload("Meetup RSVP job without an RSVP id (`rsvp.id`)") }
        guard !payload.rsvp.status.isEmpty else { throw MalformedPayload("Meetup RSVP \(id) without a status") }
        guard payload.rsvp.guestsCount >= 0 else {
            throw MalformedPayload("Meetup RSVP \(id) with a negative guestsCount \(payload.rsvp.guestsCount)")
        }
        return MeetupRSVPDelivery(
            meetupEventID: eventID,
            rsvp: MeetupRSVP(
                id: id, status: payload.rsvp.status, guestsCount: payload.rsvp.guestsCount,
                updated: payload.rsvp.updated))
    }

    private struct Payload: Codable {
        var eventId: String
        var rsvp: RSVP

        struct RSVP: Codable {
            var id: String
            var status: String
            var guestsCount: Int
            var updated: String
        }
    }
}
