/// Picks which lane's waiting request goes next: priority, fail-safe first, with ageing below it.
///
/// Fail-safe closes always go first and hold every other lane back. Among the other lanes the
/// highest waiting one goes, unless a lower lane waited while higher lanes were admitted
/// ``ageingLimit`` times: that lane then has the next turn (one admission). A platform's small
/// budget (Eventbrite's one call every 2 s) is so shared, at least one admission in
/// `ageingLimit + 1` going to a waiting lower lane, instead of capacity pushes starving the order
/// look-ups that bring sales in (and those starving reconciliation reads).
public struct LaneScheduler: Sendable, Hashable {
    /// Requests waiting per lane (absent means none).
    public var waiting: [Lane: Int]
    /// Per waiting lane: admissions of higher lanes (fail-safe aside) since one of its requests went.
    public var passedOver: [Lane: Int]
    /// How many admissions of higher lanes a waiting lane lets pass before it may go once. Default 3.
    public var ageingLimit: Int

    public init(waiting: [Lane: Int] = [:], passedOver: [Lane: Int] = [:], ageingLimit: Int = 3) {
        self.waiting = waiting
        self.passedOver = passedOver
        self.ageingLimit = max(1, ageingLimit)
    }

    /// The lane whose request goes next: fail-safe, else an aged lane (the highest), else the
    /// highest lane with a waiting request.
    public var next: Lane? {
        let waitingLanes = Lane.allCases.filter { (waiting[$0] ?? 0) > 0 }
        if waitingLanes.contains(.failsafe) { return .failsafe }
        return waitingLanes.first { (passedOver[$0] ?? 0) >= ageingLimit } ?? waitingLanes.first
    }

    /// Whether a request on `lane` may try the bucket: its lane has the turn (``next``).
    public func mayProceed(_ lane: Lane) -> Bool {
        guard let next else { return true }
        return lane == next
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
        if left <= 0 { passedOver[lane] = nil }
    }

    /// A request of `lane` was admitted: its lane starts ageing afresh, and every lower lane that
    /// waits was passed over once more (fail-safe closes age nobody: they always go first).
    public mutating func admitted(_ lane: Lane) {
        passedOver[lane] = nil
        guard lane != .failsafe else { return }
        for lower in Lane.allCases where lower > lane && (waiting[lower] ?? 0) > 0 {
            passedOver[lower, default: 0] += 1
        }
    }
}
