import Foundation
import TrafficPoliceCore

/// What one sweep of a Luma event must do (pure): Luma's guest list compared with the ledger's
/// Luma orders of the linked event (DESIGN.md section 4: a guest is one order, its quantity the
/// number of its `event_tickets`; `declined` releases; `waitlist` holds nothing).
///
/// A guest becomes a ``Correction`` when replaying its current state through the webhook path
/// (``LumaGuestDelivery`` → ``OrderDeliveryHandler``) changes the ledger:
///
/// | Luma says                                | the ledger has                     | → |
/// |------------------------------------------|------------------------------------|---|
/// | `approved`                               | nothing                            | `missingOrder` (reserve) |
/// | `approved` with n tickets                | an unreleased order asked for ≠ n  | `quantityChanged` (amend to n) |
/// | `approved`                               | a released order                   | `reapproved` (amend: decided as a new order) |
/// | `declined`                               | an unreleased order, or nothing    | `declined` (release; a tombstone when never seen) |
/// | `waitlist`, `pending_approval`, `invited`| an order holding tickets           | `holdsNothing` (release) |
///
/// A correction's job is a `guest.updated`, which the handler applies as the guest's current state
/// (an amendment: raised, lowered or back from a release). "Asked for" is the order's target: an
/// increase that was refused (overbooked) is not queued again while Luma still asks for it.
/// What no replay can change is reported as a ``Drift``.
public struct LumaSweepPlan: Sendable, Hashable {
    /// A guest as the sweep read it from `GET /v1/events/guests/list`.
    public struct Guest: Sendable, Hashable {
        /// `gst-…`: the order id.
        public var id: String
        /// `approval_status` as Luma sent it.
        public var approvalStatus: String
        /// The ids of its `event_tickets` (their count is the quantity).
        public var ticketIDs: [String]

        public init(id: String, approvalStatus: String, ticketIDs: [String]) {
            self.id = id
            self.approvalStatus = approvalStatus
            self.ticketIDs = ticketIDs
        }

        /// The quantity the webhook path reserves for an approved guest (at least 1).
        public var quantity: Int { max(1, ticketIDs.count) }
    }

    /// A guest whose state the webhook path must apply.
    public struct Correction: Sendable, Hashable {
        public enum Reason: String, Sendable, Hashable, CaseIterable {
            /// Approved on Luma, unknown to the ledger.
            case missingOrder = "missing_order"
            /// Declined on Luma; the ledger's order is not released (or was never recorded).
            case declined
            /// Waitlisted, pending or invited on Luma while the ledger holds tickets for it.
            case holdsNothing = "holds_nothing"
            /// Approved with another ticket count than the ledger's order asked for.
            case quantityChanged = "quantity_changed"
            /// Approved on Luma while the ledger's order is released (declined, then approved again).
            case reapproved
        }

        public var guest: Guest
        public var reason: Reason
        /// The ledger order's revision (``OrderRecord/revision``; 0 when never amended or unknown).
        public var ledgerRevision: Int

        public init(guest: Guest, reason: Reason, ledgerRevision: Int = 0) {
            self.guest = guest
            self.reason = reason
            self.ledgerRevision = ledgerRevision
        }

        /// Names the sweep, the guest's state and (for amendments, or once the order was amended) the
        /// ledger's revision, so that repeated sweeps add one job per state change — and a guest
        /// approved again with the same tickets after a decline is queued again.
        public var dedupeKey: String {
            let key = "luma-sweep:\(guest.id):\(guest.approvalStatus):\(guest.ticketIDs.count)"
            switch reason {
            case .quantityChanged, .reapproved: return key + ":\(reason.rawValue):r\(ledgerRevision)"
            case .missingOrder, .declined, .holdsNothing: return ledgerRevision > 0 ? key + ":r\(ledgerRevision)" : key
            }
        }

        /// The job: a `guest.updated` body in Luma's webhook shape, which ``LumaGuestDelivery`` parses.
        public func delivery(lumaEventID: String, receivedAtMilliseconds: Int64) -> WebhookDelivery {
            let body = SweepBody(
                type: "guest.updated",
                data: .init(
                    id: guest.id, approvalStatus: guest.approvalStatus,
                    eventTickets: guest.ticketIDs.map { .init(id: $0) }, event: .init(id: lumaEventID)),
                source: "luma-sweep")
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            // Strings and arrays of strings always encode; the fallback is unreachable.
            let text = (try? encoder.encode(body)).flatMap { String(bytes: $0, encoding: .utf8) } ?? "{}"
            return WebhookDelivery(
                platform: .luma, dedupeKey: dedupeKey, kind: "guest.updated", body: text,
                receivedAtMilliseconds: receivedAtMilliseconds)
        }
    }

    /// A difference the webhook path cannot apply: logged and counted for an operator.
    public enum Drift: Sendable, Hashable {
        /// An `approval_status` this version does not know (e.g. `session`): left alone.
        case unknownStatus(guestID: String, status: String)
        /// The ledger holds tickets for a guest Luma did not list (only judged after a complete read).
        case unknownToLuma(guestID: String, held: Int)

        /// A metrics label.
        public var kind: String {
            switch self {
            case .unknownStatus: "unknown_status"
            case .unknownToLuma: "unknown_to_luma"
            }
        }

        public var guestID: String {
            switch self {
            case .unknownStatus(let id, _), .unknownToLuma(let id, _):
                id
            }
        }
    }

    /// Guests to replay through the queue, in Luma's order.
    public private(set) var corrections: [Correction] = []
    /// Differences left to an operator.
    public private(set) var drifts: [Drift] = []
    /// Guests compared (a guest listed twice counts once).
    public private(set) var guestsCompared = 0

    /// Compares `guests` with the ledger's `orders` of the linked event (orders of other channels are
    /// ignored). `complete` says whether every page was read; only then are ledger orders that Luma
    /// did not list reported.
    public init(guests: [Guest], orders: [OrderRecord], complete: Bool) {
        var ledger: [String: OrderRecord] = [:]
        for order in orders where order.channel == .platform(.luma) { ledger[order.orderID] = order }
        // A guest listed twice (pages shifting under a concurrent registration): its last state wins.
        var latest: [String: Guest] = [:]
        var order: [String] = []
        for guest in guests {
            if latest.updateValue(guest, forKey: guest.id) == nil { order.append(guest.id) }
        }
        guestsCompared = order.count
        for id in order {
            guard let guest = latest[id] else { continue }
            compare(guest, ledger[id])
        }
        if complete {
            for order in ledger.values.sorted(by: { $0.orderID < $1.orderID })
            where latest[order.orderID] == nil && order.heldQuantity > 0 {
                drifts.append(.unknownToLuma(guestID: order.orderID, held: order.heldQuantity))
            }
        }
    }

    private mutating func compare(_ guest: Guest, _ order: OrderRecord?) {
        switch guest.approvalStatus {
        case "approved":
            guard let order else {
                corrections.append(Correction(guest: guest, reason: .missingOrder))
                return
            }
            // An order (or increase) refused for the quantity Luma still asks for is known: the
            // handler already asked for the guest's cancellation; its target is that quantity.
            if order.released {
                corrections.append(Correction(guest: guest, reason: .reapproved, ledgerRevision: order.revision))
            } else if order.target != guest.quantity {
                corrections.append(Correction(guest: guest, reason: .quantityChanged, ledgerRevision: order.revision))
            }
        case "declined":
            if order?.released != true {
                corrections.append(Correction(guest: guest, reason: .declined, ledgerRevision: order?.revision ?? 0))
            }
        case "waitlist", "pending_approval", "invited":
            if let order, order.heldQuantity > 0 {
                corrections.append(Correction(guest: guest, reason: .holdsNothing, ledgerRevision: order.revision))
            }
        default:
            drifts.append(.unknownStatus(guestID: guest.id, status: guest.approvalStatus))
        }
    }
}

/// `{"type":"guest.updated","data":{…,"event":{"id":…}},"traffic_police_source":"luma-sweep"}`.
private struct SweepBody: Encodable {
    struct Data: Encodable {
        struct Ticket: Encodable { var id: String }
        struct Event: Encodable { var id: String }
        var id: String
        var approvalStatus: String
        var eventTickets: [Ticket]
        var event: Event

        enum CodingKeys: String, CodingKey {
            case id, event, approvalStatus = "approval_status", eventTickets = "event_tickets"
        }
    }

    var type: String
    var data: Data
    var source: String

    enum CodingKeys: String, CodingKey {
        case type, data, source = "traffic_police_source"
    }
}
