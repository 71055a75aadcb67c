import Logging
import TrafficPoliceCore

extension EventDesk {
    /// What ``close(_:by:reason:)`` did.
    public enum CloseResult: String, Sendable, Hashable, Codable {
        /// The event was open or in red alert: its sales on the platforms are ended.
        case closed
        /// The event was already closed: nothing changed.
        case alreadyClosed = "already_closed"
    }

    /// Ends the event's sales on every platform (DESIGN.md section 3: `closed`, the mode of an event
    /// whose sales an operator ended): each platform's allocation becomes what it has sold, and the
    /// rebalancer publishes that as its capacity (Meetup: RSVPs closed) at its next look, as in red
    /// alert. Orders the platforms sold before they heard are still decided (absorbed from the free
    /// stock, else overbooked); the box office may still sell what is left, with approval.
    ///
    /// The ledger first, then Redis: a crash between the two leaves the ledger closed and Redis is
    /// closed by the retry, or by the next rebuild from the ledger. Safe to repeat.
    public func close(_ id: EventID, by operatorName: String, reason: String?) async throws -> CloseResult {
        let name = operatorName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw DomainError("--by must name the operator ending the sales") }
        guard let event = try await ledger.event(id) else { throw LedgerError.eventNotFound(id) }
        let live = try await withRebuild(id) { try await reservations.counters(event: id) }
        if event.mode == .closed, live?.mode == .closed { return .alreadyClosed }
        try await ledger.setMode(.closed, event: id)
        try await withRebuild(id) { try await reservations.setMode(.closed, event: id) }
        var metadata: Logger.Metadata = ["EVENT_ID": "\(id.rawValue)", "MODE": "closed", "OPERATOR": "\(name)"]
        if let reason, !reason.isEmpty { metadata["REASON"] = "\(reason)" }
        Self.closeLogger.notice("sales ended by an operator: every platform closes at what it sold", metadata: metadata)
        return .closed
    }

    private static let closeLogger = Logger(label: "traffic-police.events")
}
