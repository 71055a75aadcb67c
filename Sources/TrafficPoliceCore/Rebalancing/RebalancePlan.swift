/// One action of a ``RebalancePlan``, performed in order by the rebalancer.
public enum RebalanceStep: Sendable, Hashable, CustomStringConvertible {
    /// Publish a lower capacity on a linked platform (never below what it sold).
    case shrink(Platform, publishedTo: Int)
    /// Read the platform's capacity back until it shows the last shrink or close. Every step after
    /// it that depends on that shrink (a transfer out of the platform, a grow, entering red alert)
    /// waits for it; if it cannot be confirmed the rebalancer stops the plan here.
    case confirmShrink(Platform)
    /// Move unsold allocation in one atomic step (Redis). The script moves it only while the donor
    /// keeps at least max(sold, published) — what it sold or may still sell — so a sale made since
    /// the snapshot makes it move less (or nothing), never oversell.
    case transfer(from: Platform, to: Platform, tickets: Int)
    /// Publish a higher capacity on a linked platform (never above its allocation).
    case grow(Platform, publishedTo: Int)
    /// Close a linked platform for sale: publish what it sold (Meetup: `closeEventRsvps`).
    case close(Platform)
    /// Put the event in red alert: every allocation becomes what its platform sold.
    case enterRedAlert

    public var description: String {
        switch self {
        case .shrink(let platform, let capacity): "shrink \(platform.rawValue) to \(capacity)"
        case .confirmShrink(let platform): "confirm \(platform.rawValue)"
        case .transfer(let from, let to, let tickets): "transfer \(tickets) \(from.rawValue) → \(to.rawValue)"
        case .grow(let platform, let capacity): "grow \(platform.rawValue) to \(capacity)"
        case .close(let platform): "close \(platform.rawValue)"
        case .enterRedAlert: "enter red alert"
        }
    }
}

/// What the rebalancer does for one event on one tick: ordered steps, possibly none.
///
/// The order is always: shrinks and closes, then their confirmations, then transfers, then grows,
/// then (only when the snapshot was still open past the soft cap) entering red alert.
public struct RebalancePlan: Sendable, Hashable, CustomStringConvertible {
    public var steps: [RebalanceStep]

    public init(steps: [RebalanceStep]) {
        self.steps = steps
    }

    /// Nothing to do.
    public static let nothingToDo = RebalancePlan(steps: [])

    public var isEmpty: Bool { steps.isEmpty }

    /// The allocation moves, in order.
    public var transfers: [(from: Platform, to: Platform, tickets: Int)] {
        steps.compactMap {
            if case .transfer(let from, let to, let tickets) = $0 { (from, to, tickets) } else { nil }
        }
    }

    /// Whether any step publishes a higher capacity.
    public var grows: Bool {
        steps.contains { if case .grow = $0 { true } else { false } }
    }

    /// Whether the plan closes the platforms (red alert or closed).
    public var closes: Bool {
        steps.contains { if case .close = $0 { true } else { false } }
    }

    public var description: String {
        steps.isEmpty ? "nothing to do" : steps.map(\.description).joined(separator: "; ")
    }
}
