/// The passes operators asked for that the rebalancer has not started yet, as a pure value: at
/// most one per event (asking again while one waits joins it), taken in the order they were asked.
///
/// Refused, and nothing kept: an event the rebalancer does not look after (not in the ledger,
/// listed on no platform, or not selected), and any event in fail-safe (no pass runs then, and the
/// first pass after recovery reads every platform back and publishes every allocation anyway).
public struct RebalanceRequests: Sendable, Hashable {
    /// What asking for a pass did.
    public enum Outcome: String, Sendable, Hashable {
        /// A pass of the event runs at the rebalancer's next look (within its watch interval).
        case requested
        /// A pass of the event was already waiting; this request joins it.
        case alreadyPending
        /// The rebalancer does not look after this event.
        case unknownEvent
        /// Refused: the daemon is in fail-safe.
        case failsafe
    }

    /// One waiting pass: the event and the operator who asked first.
    public struct Request: Sendable, Hashable {
        public let event: EventID
        public let requestedBy: String

        public init(event: EventID, requestedBy: String) {
            self.event = event
            self.requestedBy = requestedBy
        }
    }

    public private(set) var pending: [Request] = []

    public init() {}

    /// Asks for a pass of `event` on behalf of `operatorName`.
    ///
    /// - Parameters:
    ///   - watched: the rebalancer looks after the event.
    ///   - failsafe: the daemon is in fail-safe (the rebalancer's gate is closed).
    public mutating func request(_ event: EventID, by operatorName: String, watched: Bool, failsafe: Bool) -> Outcome {
        guard watched else { return .unknownEvent }
        guard !failsafe else { return .failsafe }
        guard !pending.contains(where: { $0.event == event }) else { return .alreadyPending }
        pending.append(Request(event: event, requestedBy: operatorName))
        return .requested
    }

    /// Takes every waiting request, oldest first; a request made after this is a new pass.
    public mutating func takeAll() -> [Request] {
        defer { pending = [] }
        return pending
    }
}
