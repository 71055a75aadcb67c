/// Where a read of an event's RSVPs starts: the top of the list (newest-updated first) or after a cursor.
public enum RSVPCursor: Sendable, Hashable {
    case top
    case after(String)

    /// The `after` argument of the query (nil at the top).
    public var after: String? {
        switch self {
        case .top: nil
        case .after(let cursor): cursor
        }
    }

    /// One cursor that covers what both cover: RSVPs only ever move towards the top of a list sorted
    /// newest-updated first, so a cursor still marks a lower bound; two different (opaque) cursors
    /// merge into the top.
    public static func merge(_ a: RSVPCursor?, _ b: RSVPCursor?) -> RSVPCursor? {
        guard let a else { return b }
        guard let b, a != b else { return a }
        return .top
    }
}

/// One poll of one Meetup event (pure): which page to read next, what in each page is new, and
/// what is left to read when the poll ends or fails.
///
/// A poll first reads the **head**: pages from the top while a page is all changes (the
/// ``RSVPChangeTracker`` rule). Then, when an earlier poll left a **rescan** (it hit the page bound
/// while changes went on, or failed after marking RSVPs it could not enqueue), it reads on from
/// that cursor to the end of the list whatever it finds. Both share `maxPages` reads; what is not
/// read stays in ``rescan`` for the next poll, so a bounded or failed poll loses nothing.
///
/// The caller enqueues each change that ``received(_:hasNextPage:endCursor:)`` returns and
/// confirms it with ``enqueued(_:)``; on any failure it calls ``failed()``, which forgets the
/// changes not confirmed (so they are reported again) and records where to read again.
public struct MeetupPollPass: Sendable {
    public enum Phase: Sendable, Hashable { case head, rescan }

    /// The Meetup event id.
    public let eventID: String
    /// RSVPs asked for per page.
    public let pageSize: Int
    /// The tracker as this pass leaves it (hand it back to the schedule).
    public private(set) var tracker: RSVPChangeTracker
    /// What a later poll must still read from (nil: nothing).
    public private(set) var rescan: RSVPCursor?
    /// Changes found by the head (new activity, for the sales velocity).
    public private(set) var headChanges = 0
    public private(set) var phase: Phase = .head
    /// Pages read.
    public private(set) var pagesRead = 0
    /// Whether the event had never been read before (its first read reports every RSVP).
    public let firstRead: Bool

    /// The cursor of the next read, nil when the pass is over.
    public private(set) var nextRead: RSVPCursor?
    private var pagesLeft: Int
    /// The cursor of the page whose changes are being enqueued.
    private var received: RSVPCursor = .top
    /// Changes handed out and not yet confirmed enqueued.
    private var pending: [MeetupRSVP] = []
    /// Fingerprints of every change this pass returned.
    private var returned: Set<String> = []

    public init(
        eventID: String, pageSize: Int, maxPages: Int, tracker: RSVPChangeTracker, rescan: RSVPCursor?, firstRead: Bool
    ) {
        self.eventID = eventID
        self.pageSize = max(1, pageSize)
        self.pagesLeft = max(1, maxPages)
        self.tracker = tracker
        self.rescan = rescan
        self.firstRead = firstRead
        self.nextRead = .top
    }

    /// Whether the pass read everything it meant to (no read left).
    public var isFinished: Bool { nextRead == nil }

    /// Takes the page read at ``nextRead``; returns the RSVPs to enqueue, in order.
    public mutating func received(_ page: [MeetupRSVP], hasNextPage: Bool, endCursor: String?) -> [MeetupRSVP] {
        guard let cursor = nextRead else { return [] }
        received = cursor
        pagesRead += 1
        pagesLeft -= 1
        let (changed, _) = tracker.changes(in: page)
        pending.append(contentsOf: changed)
        // An RSVP this pass already returned may reappear on the next page when new changes push
        // the list down between two reads: it does not mean the changes have ended.
        for rsvp in changed { returned.insert(rsvp.fingerprint) }
        let allChanged = !page.isEmpty && page.allSatisfy { returned.contains($0.fingerprint) }
        let next: RSVPCursor? = hasNextPage ? endCursor.flatMap { $0.isEmpty ? nil : .after($0) } : nil
        switch phase {
        case .head:
            headChanges += changed.count
            if allChanged, let next {
                if pagesLeft > 0 {
                    nextRead = next
                } else {
                    rescan = RSVPCursor.merge(rescan, next)
                    nextRead = nil
                }
            } else if let pending = rescan, pagesLeft > 0 {
                phase = .rescan
                nextRead = pending
            } else {
                nextRead = nil
            }
        case .rescan:
            rescan = next
            nextRead = pagesLeft > 0 ? next : nil
        }
        return changed
    }

    /// Confirms that `rsvp` (returned by `received`) is durable in the queue.
    public mutating func enqueued(_ rsvp: MeetupRSVP) {
        if let index = pending.firstIndex(where: { $0.id == rsvp.id && $0.fingerprint == rsvp.fingerprint }) {
            pending.remove(at: index)
        }
    }

    /// The read or an enqueue failed: forgets what was not enqueued and records where to read again.
    /// A failed first read of the head needs nothing (the next head read covers it).
    public mutating func failed() {
        let at: RSVPCursor?
        if !pending.isEmpty {
            for rsvp in pending { tracker.forget(rsvp.id) }
            pending = []
            at = received
        } else {
            at = nextRead
        }
        if let at {
            switch phase {
            case .head where at == .top && pagesRead == 0:
                break
            case .head:
                rescan = RSVPCursor.merge(rescan, at)
            case .rescan:
                rescan = at
            }
        }
        nextRead = nil
    }
}
