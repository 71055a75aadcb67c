/// When the rebalancer looks at one event again, as a pure value fed with the event's counters.
///
/// The rebalancer watches each event's counters often (every few hundred milliseconds, one Redis
/// read) and asks this value whether a pass is due. It also measures each platform's sales velocity
/// from the changes in sold it sees. A pass is due:
/// - **closing**: the event is past the soft cap (red alert, closed, or open with sold ≥ soft cap) and
///   a linked platform still publishes something other than what it sold — at once, every time;
/// - **trigger**: a linked platform has sold ``Configuration/triggerShare`` of its allocation — once
///   per allocation it reaches it at (a pass that moved nothing does not fire again until the
///   allocation changes), no sooner than ``Configuration/minimumGapMilliseconds`` after the last pass;
/// - **interval**: ``Configuration/intervalMilliseconds`` since the last pass (the first observation
///   of an event is due at once).
/// Nothing is due in fail-safe.
public struct RebalanceTrigger: Sendable, Hashable {
    public struct Configuration: Sendable, Hashable {
        /// The regular pass, in milliseconds (default 10 s).
        public var intervalMilliseconds: Int64
        /// The share of its allocation a platform sells to trigger a pass (default 0.8).
        public var triggerShare: Double
        /// The least time between two passes that are not closing (default 1 s).
        public var minimumGapMilliseconds: Int64
        /// The velocity's time constant (default 60 s).
        public var velocityWindowMilliseconds: Int64

        public init(
            intervalMilliseconds: Int64 = 10_000, triggerShare: Double = 0.8, minimumGapMilliseconds: Int64 = 1_000,
            velocityWindowMilliseconds: Int64 = 60_000
        ) {
            self.intervalMilliseconds = max(intervalMilliseconds, 1)
            self.triggerShare = triggerShare.isFinite ? min(max(triggerShare, 0), 1) : 0.8
            self.minimumGapMilliseconds = max(minimumGapMilliseconds, 0)
            self.velocityWindowMilliseconds = max(velocityWindowMilliseconds, 1)
        }
    }

    /// Why a pass is due (`operatorRequest`: an operator asked for it, see ``RebalanceRequests``;
    /// never returned by ``observe(_:softCap:published:linked:at:)``).
    public enum Reason: String, Sendable, Hashable {
        case closing, trigger, interval
        case operatorRequest = "operator"
    }

    public let configuration: Configuration
    private var velocity: [Platform: SalesVelocity]
    private var lastSold: [Platform: Int] = [:]
    private var lastPass: Int64?
    /// The allocation each platform last triggered a pass at.
    private var triggeredAt: [Platform: Int] = [:]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.velocity = Dictionary(
            uniqueKeysWithValues: Platform.allCases.map {
                ($0, SalesVelocity(windowMilliseconds: configuration.velocityWindowMilliseconds))
            })
    }

    /// Records what the counters show at `now` (ms, monotonic) and says whether a pass is due.
    ///
    /// - Parameters:
    ///   - published: what each linked platform publishes, as the rebalancer last set or read it.
    ///   - linked: the platforms the event is listed on.
    ///   - platformSold: what a platform itself said it sold, where that is more than the counters
    ///     show and still trusted: past the soft cap a platform closed at that count needs no pass.
    public mutating func observe(
        _ counters: EventCounters, softCap: Int, published: [Platform: Int], linked: Set<Platform>,
        platformSold: [Platform: Int] = [:], at now: Int64
    ) -> Reason? {
        for platform in Platform.allCases {
            let sold = counters.sold[.platform(platform)] ?? 0
            if let last = lastSold[platform], sold > last {
                velocity[platform]?.record(sold - last, at: now)
            }
            lastSold[platform] = sold
        }
        if counters.mode == .failsafe { return nil }
        let pastSoftCap =
            counters.mode == .redAlert || counters.mode == .closed
            || (counters.mode == .open && counters.totalSold >= softCap)
        if pastSoftCap {
            let open = linked.contains {
                (published[$0] ?? 0) != max(counters.sold[.platform($0)] ?? 0, platformSold[$0] ?? 0)
            }
            return open || counters.mode == .open ? .closing : nil
        }
        guard let lastPass else { return .interval }
        if now - lastPass >= configuration.intervalMilliseconds { return .interval }
        guard now - lastPass >= configuration.minimumGapMilliseconds else { return nil }
        for platform in linked.sorted() {
            let allocation = counters.allocation[platform] ?? 0
            let sold = counters.sold[.platform(platform)] ?? 0
            guard allocation > 0, triggeredAt[platform] != allocation else { continue }
            if Double(sold) >= configuration.triggerShare * Double(allocation) {
                triggeredAt[platform] = allocation
                return .trigger
            }
        }
        return nil
    }

    /// Records that a pass ran at `now`.
    public mutating func passed(at now: Int64) {
        lastPass = now
    }

    /// Each platform's sales per second at `now`.
    public func velocities(at now: Int64) -> [Platform: Double] {
        velocity.mapValues { $0.perSecond(at: now) }
    }
}
