import TrafficPoliceCore
/// A Meetup RSVP status; values this code does not know are kept, not refused.
public struct MeetupRsvpStatus: OpenEnumeration {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let yes = MeetupRsvpStatus(rawValue: "YES")
    public static let no = MeetupRsvpStatus(rawValue: "NO")
    public static let waitlist = MeetupRsvpStatus(rawValue: "WAITLIST")
    public static let attended = MeetupRsvpStatus(rawValue: "ATTENDED")
    public static let yesPendingPayment = MeetupRsvpStatus(rawValue: "YES_PENDING_PAYMENT")
    public static let noShow = MeetupRsvpStatus(rawValue: "NO_SHOW")


    /// Tickets an RSVP holds: the core's rule (`MeetupRSVP.quantity`, DESIGN.md section 4).
    public static func quantity(status: MeetupRsvpStatus, guestsCount: Int) -> Int {
        MeetupRSVP(id: "", status: status.rawValue, guestsCount: guestsCount, updated: "").quantity
    }
}

/// One RSVP: one order. Dedupe on `id` + `status` + `guestsCount` + `updated`.
public struct MeetupRsvp: Sendable, Hashable, Decodable {
    public var id: String
    public var status: MeetupRsvpStatus
    public var guestsCount: Int
    /// The `updated` DateTime as Meetup sent it (kept as text so dedupe keys compare exactly).
    public var updated: String?
    public var isHost: Bool?
    public var payStatus: String?
    public var member: Member?
    /// The edge's cursor.
    public var cursor: String?

    /// The member who RSVPed.
    public struct Member: Sendable, Hashable, Decodable {
        public var id: String
        public var name: String?
    }

    /// Tickets held: see `MeetupRsvpStatus.quantity(status:guestsCount:)`.
    public var quantity: Int { MeetupRsvpStatus.quantity(status: status, guestsCount: guestsCount) }

    enum CodingKeys: String, CodingKey {
        case id, status, guestsCount, updated, isHost, payStatus, member
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        status = try container.decode(MeetupRsvpStatus.self, forKey: .status)
        guestsCount = try container.decodeIfPresent(Int.self, forKey: .guestsCount) ?? 0
        updated = try container.decodeIfPresent(String.self, forKey: .updated)
        isHost = try container.decodeIfPresent(Bool.self, forKey: .isHost)
        payStatus = try container.decodeIfPresent(String.self, forKey: .payStatus)
        member = try container.decodeIfPresent(Member.self, forKey: .member)
    }
}

/// One page of `MeetupDocuments.rsvps`: the event's settings, the counts and the RSVPs.
public struct MeetupRsvpPage: Sendable, Hashable {
    public var event: MeetupEventSummary
    public var totalCount: Int?
    public var yesCount: Int?
    public var waitlistCount: Int?
    public var noCount: Int?
    public var rsvps: [MeetupRsvp]
    public var hasNextPage: Bool
    /// Pass as `after` for the next page.
    public var endCursor: String?
    /// Points this page cost (`MeetupCost.queryActual`), to settle with the throttler.
    public var cost: Int
}

/// The event fields the RSVP query reads.
public struct MeetupEventSummary: Sendable, Hashable, Decodable {
    public var id: String
    public var status: String?
    /// The RSVP limit in force; 0 or null means no limit (`rsvpLimit` 0 removes it, platforms.md 3.4).
    public var maxTickets: Int?
    /// `AUTO` or `OFF` (platforms.md 3.4).
    public var waitlistMode: String?
    public var rsvpSettings: RsvpSettings?

    /// `rsvpSettings { rsvpOpenTime rsvpCloseTime rsvpsClosed }`.
    public struct RsvpSettings: Sendable, Hashable, Decodable {
        public var rsvpOpenTime: String?
        public var rsvpCloseTime: String?
        public var rsvpsClosed: Bool?
    }
}

/// What a Meetup mutation returned: the event id, its `maxTickets` when asked, and the points it cost.
public struct MeetupMutationResult: Sendable, Hashable {
    public var eventID: String
    public var maxTickets: Int?
    public var cost: Int

    public init(eventID: String, maxTickets: Int?, cost: Int) {
        self.eventID = eventID
        self.maxTickets = maxTickets
        self.cost = cost
    }
}
