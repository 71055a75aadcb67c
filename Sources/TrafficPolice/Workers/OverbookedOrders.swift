import Logging
import Metrics
import PlatformClients
import TrafficPoliceCore

/// What the workers do about an order nothing covers (DESIGN.md section 3): a new overbooked
/// order, or an amendment that asks for more than could be covered (refused).
///
/// Each is logged at critical level (`overbooked`, with EVENT_ID, PLATFORM, ORDER_ID, QUANTITY and
/// ACTION), counted in `traffic_police_overbooked_orders_total{platform, action}` and recorded in the
/// ledger's `order_changes` (``Ledger/recordOverbookedAction(event:platform:orderID:action:)``).
/// A Luma guest that holds nothing is moved to the event's waitlist (`update-status` to
/// `waitlist`, capacity-push lane) and recorded `overbooked_waitlisted`; everything else — Eventbrite
/// and Meetup orders, a Luma guest whose raise was refused but who still holds tickets (the waitlist
/// would take those from them too), a Luma call that failed or could not be made — is recorded
/// `overbooked_flagged` for the operator. A failure here is logged, never thrown: the job that found
/// the order has applied it already. Callers skip repeats (`ReservationResult.duplicate`,
/// `AmendmentResult.Change.duplicate`: nothing is called again), and the ledger keeps one action per
/// revision of an order, so a repeat that does reach here is neither logged nor counted again.
public struct OverbookedOrders: Sendable {
    let ledger: Ledger
    /// Luma's client, or nil when Luma has no API key (every Luma order is flagged then).
    let luma: LumaClient?
    let metricsFactory: any MetricsFactory
    let logger: Logger

    /// - Parameters:
    ///   - gateway: where Luma's client comes from (`luma(.capacityPush)`); nil flags every order.
    public init(
        ledger: Ledger, gateway: PlatformGateway?, metricsFactory: any MetricsFactory = MetricsSystem.factory,
        logger: Logger = Logger(label: "traffic-police.workers")
    ) {
        self.ledger = ledger
        self.luma = gateway?.luma(.capacityPush)
        self.metricsFactory = metricsFactory
        self.logger = logger
    }

    /// Acts on one order found overbooked: `quantity` is what the platform asks for, `held` what the
    /// order holds (0 for a new overbooked order). Returns the action recorded, nil for a repeat
    /// (an action already recorded for this revision) or when the ledger could not be written.
    @discardableResult
    public func handle(event: EventID, platform: Platform, orderID: String, quantity: Int, held: Int = 0) async
        -> Ledger.OverbookedAction?
    {
        var metadata: Logger.Metadata = [
            "EVENT_ID": "\(event)", "PLATFORM": "\(platform.rawValue)", "ORDER_ID": "\(orderID)",
            "QUANTITY": "\(quantity)",
        ]
        if held > 0 { metadata["HELD"] = "\(held)" }
        let action: Ledger.OverbookedAction
        if platform == .luma, held == 0 {
            action = await waitlist(event: event, guestID: orderID, metadata: metadata) ? .waitlisted : .flagged
        } else {
            action = .flagged
        }
        metadata["ACTION"] = "\(action.rawValue)"
        do {
            guard try await ledger.recordOverbookedAction(event: event, platform: platform, orderID: orderID, action: action)
            else { return nil }
        } catch {
            metadata["error"] = "\(error)"
            logger.error("overbooked: the action could not be recorded in the ledger", metadata: metadata)
            metadata["error"] = nil
        }
        Counter(
            label: "traffic_police_overbooked_orders_total",
            dimensions: [("platform", platform.rawValue), ("action", action.rawValue)], factory: metricsFactory
        ).increment()
        logger.critical("overbooked", metadata: metadata)
        return action
    }

    /// Moves a Luma guest to the event's waitlist; false (logged) when it could not.
    private func waitlist(event: EventID, guestID: String, metadata: Logger.Metadata) async -> Bool {
        var metadata = metadata
        do {
            guard let luma else {
                logger.warning("overbooked: no Luma API key, the guest is flagged instead of waitlisted", metadata: metadata)
                return false
            }
            guard let lumaEventID = try await ledger.listings(event)[.luma]?.platformEventID else {
                logger.warning("overbooked: the event has no Luma listing, the guest is flagged", metadata: metadata)
                return false
            }
            try await luma.updateGuestStatus(eventID: lumaEventID, guestID: guestID, status: .waitlist)
            return true
        } catch {
            metadata["error"] = "\(error)"
            logger.error("overbooked: the Luma guest could not be moved to the waitlist; flagged instead", metadata: metadata)
            return false
        }
    }
}
