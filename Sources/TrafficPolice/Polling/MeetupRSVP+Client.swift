import PlatformClients
import TrafficPoliceCore

extension MeetupRSVP {
    /// The core's view of an RSVP the Meetup client read (its quantity and fingerprint rules are
    /// the core's: `MeetupRSVP.quantity`, `MeetupRSVP.fingerprint`). A missing `updated` is empty.
    public init(_ rsvp: MeetupRsvp) {
        self.init(id: rsvp.id, status: rsvp.status.rawValue, guestsCount: rsvp.guestsCount, updated: rsvp.updated ?? "")
    }
}
