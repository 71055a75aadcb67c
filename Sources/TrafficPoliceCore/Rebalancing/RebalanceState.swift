/// What the rebalance policy decides from: one event's capacity policy, mode, box-office sales and,
/// per platform, its listing (DESIGN.md section 3).
///
/// It is also the simulator of a plan: ``apply(_:)`` performs one ``RebalanceStep`` on the value,
/// as the rebalancer will perform it on Redis and on the platform, so tests check the guarantees
/// after every step, including between a shrink and its confirmation.
public struct RebalanceState: Sendable, Hashable {
    /// One platform's side of the event.
    public struct Listing: Sendable, Hashable {
        /// Whether the event is linked on this platform. An unlinked platform publishes nothing
        /// (its published capacity is 0) and its allocation can move at once.
        public var linked: Bool
        /// The platform's allocation: its share of C − S plus what it absorbed.
        public var allocation: Int
        /// The capacity last published on the platform: its total, sold included. 0 when unlinked.
        public var published: Int
        /// Tickets the platform holds (accepted or absorbed orders not released).
        public var sold: Int
        /// Sales per second (``SalesVelocity/perSecond(at:)``). Negative, NaN or infinite values count as 0.
        public var velocity: Double
        /// While a shrink is sent but not read back, the capacity the platform may still be offering
        /// (the highest published before the shrink); `nil` once confirmed. The rebalancer's snapshots
        /// have `nil`; the simulator sets it on ``RebalanceStep/shrink(_:publishedTo:)`` and
        /// ``RebalanceStep/close(_:)``.
        public var unconfirmedPublished: Int?

        public init(
            linked: Bool, allocation: Int, published: Int, sold: Int, velocity: Double,
            unconfirmedPublished: Int? = nil
        ) {
            self.linked = linked
            self.allocation = max(allocation, 0)
            self.published = linked ? max(published, 0) : 0
            self.sold = max(sold, 0)
            self.velocity = velocity
            self.unconfirmedPublished = linked ? unconfirmedPublished : nil
        }

        /// The largest allowed velocity, so that velocity × horizon stays far inside `Int`.
        public static let maximumVelocity: Double = 1_000_000

        /// The rate the policy uses: the velocity for a linked platform (0 if not a finite positive
        /// number), and 0 for an unlinked one, which cannot sell whatever it sold before.
        public var sellingRate: Double {
            guard linked, velocity.isFinite, velocity > 0 else { return 0 }
            return min(velocity, Listing.maximumVelocity)
        }

        /// max(allocation − sold, 0): the quota the platform still holds unsold.
        public var unsoldAllocation: Int { max(allocation - sold, 0) }

        /// The most the platform may be offering now, sold included: the published capacity, or the
        /// capacity before an unconfirmed shrink; 0 when unlinked.
        public var offered: Int {
            guard linked else { return 0 }
            return max(published, unconfirmedPublished ?? published)
        }

        /// max(offered − sold, 0): what the platform may still sell.
        public var offeredUnsold: Int { max(offered - sold, 0) }
    }

    public var policy: CapacityPolicy
    public var mode: EventMode
    /// Tickets the box office sold (they count toward the soft cap).
    public var boxOfficeSold: Int
    /// Every platform's listing (a platform missing from the initializer's dictionary is unlinked, with nothing).
    public private(set) var listings: [Platform: Listing]

    public init(policy: CapacityPolicy, mode: EventMode, boxOfficeSold: Int = 0, listings: [Platform: Listing]) {
        self.policy = policy
        self.mode = mode
        self.boxOfficeSold = max(boxOfficeSold, 0)
        self.listings = Dictionary(
            uniqueKeysWithValues: Platform.allCases.map {
                ($0, listings[$0] ?? Listing(linked: false, allocation: 0, published: 0, sold: 0, velocity: 0))
            })
    }

    /// The state from Redis's counters, what each platform publishes and each platform's velocity.
    ///
    /// - Parameters:
    ///   - counters: the event's counters (allocations, sold per channel, mode).
    ///   - linked: the platforms the event is linked on.
    ///   - published: the capacity each linked platform publishes (missing: 0).
    ///   - velocity: each platform's sales per second (missing: 0).
    public init(
        policy: CapacityPolicy, counters: EventCounters, linked: Set<Platform>, published: [Platform: Int],
        velocity: [Platform: Double]
    ) {
        var listings: [Platform: Listing] = [:]
        for platform in Platform.allCases {
            listings[platform] = Listing(
                linked: linked.contains(platform), allocation: counters.allocation[platform] ?? 0,
                published: published[platform] ?? 0, sold: counters.sold[.platform(platform)] ?? 0,
                velocity: velocity[platform] ?? 0)
        }
        self.init(
            policy: policy, mode: counters.mode, boxOfficeSold: counters.sold[.boxOffice] ?? 0, listings: listings)
    }

    public subscript(platform: Platform) -> Listing {
        listings[platform]!
    }

    /// Tickets held across every channel, the box office included.
    public var totalSold: Int { boxOfficeSold + listings.values.reduce(0) { $0 + $1.sold } }

    /// Σ max(allocation − sold, 0): the right-hand side of G2.
    public var unsoldAllocation: Int { listings.values.reduce(0) { $0 + $1.unsoldAllocation } }

    /// Σ max(offered − sold, 0): what the platforms together may still sell, the left-hand side of G2.
    public var offeredUnsold: Int { listings.values.reduce(0) { $0 + $1.offeredUnsold } }

    /// G2: the platforms together offer no more than their allocations.
    public var isPublishSafe: Bool { offeredUnsold <= unsoldAllocation }

    /// Whether the event sells only through the box office from now on: red alert or closed, or
    /// sold has reached the soft cap (the reservation script enters red alert at that step; a
    /// snapshot may not show it yet).
    public var isPastSoftCap: Bool {
        mode == .redAlert || mode == .closed || (mode == .open && totalSold >= policy.softCap)
    }

    /// Performs one step, as the rebalancer does on Redis and the platform.
    ///
    /// - `shrink` and `close` lower the published capacity at once, but the platform counts as still
    ///   offering the capacity it had (``Listing/unconfirmedPublished``) until `confirmShrink`.
    /// - `transfer` moves allocation in one atomic step (Redis), `grow` raises the published capacity,
    ///   `enterRedAlert` sets the mode and every allocation to what its platform sold.
    public mutating func apply(_ step: RebalanceStep) {
        switch step {
        case .shrink(let platform, let capacity):
            publish(capacity, on: platform)
        case .close(let platform):
            publish(self[platform].sold, on: platform)
        case .confirmShrink(let platform):
            listings[platform]!.unconfirmedPublished = nil
        case .transfer(let from, let to, let tickets):
            listings[from]!.allocation -= tickets
            listings[to]!.allocation += tickets
        case .grow(let platform, let capacity):
            listings[platform]!.published = capacity
        case .enterRedAlert:
            mode = .redAlert
            for platform in Platform.allCases {
                listings[platform]!.allocation = listings[platform]!.sold
            }
        }
    }

    /// The state after every step of `plan`.
    public func applying(_ plan: RebalancePlan) -> RebalanceState {
        var state = self
        for step in plan.steps { state.apply(step) }
        return state
    }

    private mutating func publish(_ capacity: Int, on platform: Platform) {
        var listing = self[platform]
        guard listing.linked else { return }
        if capacity < listing.published {
            listing.unconfirmedPublished = max(listing.unconfirmedPublished ?? listing.published, listing.published)
        }
        listing.published = capacity
        listings[platform] = listing
    }
}
