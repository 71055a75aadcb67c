import Foundation
import PlatformClients
import TrafficPoliceCore

extension Reconciler {
    /// ``read(_:platformEventID:)``, tried again (`readAttempts`, `readRetryDelay` doubling) after a
    /// retryable failure or a rate limit.
    func readRetrying(_ platform: Platform, platformEventID: String) async throws -> [PlatformOrderState] {
        var delay = configuration.readRetryDelay
        var attempt = 1
        while true {
            do {
                return try await read(platform, platformEventID: platformEventID)
            } catch let error as PlatformCallError where attempt < configuration.readAttempts {
                switch error {
                case .retryable, .rateLimited: break
                default: throw error
                }
                attempt += 1
                try await Task.sleep(for: delay)
                delay = delay * 2
            }
        }
    }

    /// Every order of the platform's event as it holds it now, through the gateway's
    /// reconciliation lane (paged by the clients' `all…` calls). Throws when it cannot be read.
    func read(_ platform: Platform, platformEventID: String) async throws -> [PlatformOrderState] {
        let pageSize = max(1, configuration.pageSize)
        let maxPages = max(1, configuration.maxPages)
        switch platform {
        case .eventbrite:
            guard let client = gateway.eventbrite(.reconciliation) else { throw ReconcileReadError.notEnabled(platform) }
            let orders = try await client.allEventOrders(
                eventID: platformEventID, status: .allNotDeleted, maxPages: maxPages, expandAttendees: true)
            let readAt = Self.nowMilliseconds()
            // Quantity = attendees neither cancelled nor refunded (as the order resolver reads it).
            return orders.map {
                PlatformOrderState(orderID: $0.id, quantity: $0.quantity, status: $0.status ?? "", version: readAt)
            }
        case .luma:
            guard let client = gateway.luma(.reconciliation) else { throw ReconcileReadError.notEnabled(platform) }
            let guests = try await client.allGuests(eventID: platformEventID, limit: pageSize, maxPages: maxPages)
            let readAt = Self.nowMilliseconds()
            return guests.map {
                PlatformOrderState(
                    orderID: $0.id, quantity: Self.lumaQuantity($0), status: $0.approvalStatus.rawValue, version: readAt)
            }
        case .meetup:
            guard let client = gateway.meetup(.reconciliation) else { throw ReconcileReadError.notEnabled(platform) }
            // A page costs 1 + the RSVPs asked for: never more than the lane may spend at once.
            let budget = gateway.throttler.budgets[.meetup] ?? Budget.standard(for: .meetup)
            let first = max(1, min(pageSize, budget.capacity(for: .reconciliation) - MeetupCost.perRequest))
            let rsvps = try await client.allRsvps(
                eventID: platformEventID, first: first, statuses: configuration.meetupStatuses, maxPages: maxPages)
            return rsvps.map {
                let job = MeetupRSVPDelivery(meetupEventID: platformEventID, rsvp: MeetupRSVP($0))
                return PlatformOrderState(
                    orderID: job.rsvp.id, quantity: job.rsvp.quantity, status: job.rsvp.status, version: job.version)
            }
        }
    }

    /// A Luma guest's tickets as the webhook path counts them (``LumaGuestDelivery``): approved →
    /// its `event_tickets` (at least 1); declined, waitlisted, pending or invited → 0; any other
    /// status is not known (nil).
    static func lumaQuantity(_ guest: LumaGuest) -> Int? {
        switch guest.approvalStatus {
        case .approved: max(1, guest.eventTickets.count)
        case .declined, .waitlist, .pendingApproval, .invited: 0
        default: nil
        }
    }

    static func nowMilliseconds() -> Int64 {
        min(max(Int64((Date().timeIntervalSince1970 * 1000).rounded()), 0), EventStock.maximumVersion)
    }
}

/// Why a linked platform could not be read.
public enum ReconcileReadError: Error, Sendable, CustomStringConvertible {
    /// No credentials for the platform: it cannot be called.
    case notEnabled(Platform)

    public var description: String {
        switch self {
        case .notEnabled(let platform): "\(platform.rawValue) is not enabled (no API credential)"
        }
    }
}
