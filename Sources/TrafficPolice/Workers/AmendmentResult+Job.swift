import Logging
import TrafficPoliceCore

extension AmendmentResult {
    /// How a worker reports the step in its job outcome: `accepted × 3` for an order held for the
    /// first time (as a reservation reports it), `increased 1 → 3 (absorbed)`, `decreased 3 → 1`,
    /// `released 3 → 0`, `refused 1 → 9: overbooked, holds 1`, `accepted (repeat) × 3`, `stale …`.
    var summary: String {
        let outcome = order.outcome.rawValue
        switch change {
        case .increased where previousQuantity == 0:
            return "\(outcome) × \(quantity)"
        case .increased:
            return "increased \(previousQuantity) → \(quantity) (\(outcome))"
        case .decreased where quantity == 0:
            return "released \(previousQuantity) → 0"
        case .decreased:
            return "decreased \(previousQuantity) → \(quantity)"
        case .refused where previousQuantity == 0:
            return "overbooked × \(order.target)"
        case .refused:
            return "refused \(previousQuantity) → \(order.target): overbooked, holds \(quantity)"
        case .unchanged:
            return "unchanged × \(quantity)"
        case .duplicate:
            return quantity == 0 && !overbooked ? "holds nothing (repeat)" : "\(outcome) (repeat) × \(quantity)"
        case .stale:
            return "stale (an older version): holds \(quantity)"
        }
    }

    /// Logs what an operator must act on: tickets the platform sold that nothing covers.
    func logOverbooking(platform: String, logger: Logger, metadata: Logger.Metadata) {
        guard change == .refused else { return }
        var metadata = metadata
        metadata["OUTCOME"] = "overbooked"
        logger.error(
            "overbooked: the \(platform) order asks for \(order.target) tickets and holds \(quantity); the rest must be cancelled or moved to the waitlist",
            metadata: metadata)
    }
}
