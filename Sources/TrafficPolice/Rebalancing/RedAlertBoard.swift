import Foundation
import TrafficPoliceCore

/// The events in red alert, as the rebalancer saw them: what `STATUS=` names and the metric counts.
public struct RedAlertBoard: Sendable {
    private let entries = Locked<[EventID: Date]>([:])

    public init() {}

    /// Records that `event` is in red alert since `date`; false when it already was.
    @discardableResult
    public func enter(_ event: EventID, at date: Date = Date()) -> Bool {
        entries.withLock { entries in
            guard entries[event] == nil else { return false }
            entries[event] = date
            return true
        }
    }

    /// Forgets `event` (its mode is no longer red alert).
    public func leave(_ event: EventID) {
        _ = entries.withLock { $0.removeValue(forKey: event) }
    }

    /// The events in red alert, with the time each entered it.
    public var events: [EventID: Date] { entries.value }

    /// A fragment for the status line: `red_alert=A,B` or empty.
    public var statusFragment: String {
        let ids = entries.value.keys.map(\.rawValue).sorted()
        return ids.isEmpty ? "" : "red_alert=" + ids.joined(separator: ",")
    }
}
