/// Picks which lane's waiting request goes next: strict priority, fail-safe first.
///
/// Strict priority can starve reconciliation while higher lanes keep the bucket busy; that is
/// intended (reconciliation is a nightly catch-up and the higher lanes are bounded by sales and
/// rebalancing), so no ageing is done.
public struct LaneScheduler: Sendable, Hashable {
    /// Requests waiting per lane (absent means none).
    public var waiting: [Lane: Int]

    public init(waiting: [Lane: Int] = [:]) { self.waiting = waiting }

    /// The highest-priority lane with a waiting request.
    public var next: Lane? { Lane.allCases.first { (waiting[$0] ?? 0) > 0 } }

    /// Whether a request on `lane` may try the bucket: no request of a higher lane is waiting.
    public func mayProceed(_ lane: Lane) -> Bool {
        !Lane.allCases.contains { $0 < lane && (waiting[$0] ?? 0) > 0 }
    }

    /// The next lane and its head's decision on the bucket (`heads` are the head costs per lane).
    public func decide(heads: [Lane: Int], gcra: GCRA, at now: Int64, tat: Int64, pausedUntil: Int64 = 0)
        -> (lane: Lane, decision: GCRA.Decision)?
    {
        guard let lane = next else { return nil }
        return (lane, gcra.admit(cost: heads[lane] ?? 1, lane: lane, at: now, tat: tat, pausedUntil: pausedUntil))
    }

    public mutating func enqueue(_ lane: Lane) { waiting[lane, default: 0] += 1 }

    public mutating func dequeue(_ lane: Lane) {
        let left = (waiting[lane] ?? 0) - 1
        waiting[lane] = left > 0 ? left : nil
    }
}
