/// The rebalance decision of DESIGN.md section 3, as a pure function: a ``RebalanceState`` in, a
/// ``RebalancePlan`` out. The rebalancer actor only performs the plan's steps, in order.
///
/// The rules:
/// - **Fail-safe**: nothing to do (Redis is gone; closing the platforms is the fail-safe's business).
///   No grow, no transfer.
/// - **Red alert, closed, or sold ≥ soft cap** (the box office included): close every linked platform
///   whose published capacity is not what it sold, confirm each close, and — when the snapshot still
///   says open — enter red alert last, so the allocations drop to sold only once no platform offers
///   more. No transfer, no grow.
/// - **Open, below the soft cap**: over a horizon H (``Configuration/horizonSeconds``) a linked
///   platform needs need = ⌈velocity × H⌉ tickets and holds unsold = max(allocation − sold, 0).
///   - A **donor** gives what it holds beyond what it keeps: unsold − max(need, reserve) for a linked
///     platform, all of its unsold for an unlinked one (it cannot sell: its need, reserve and rate are 0).
///   - A **receiver** is a linked platform selling (rate > 0) that lacks need − unsold.
///   - Receivers are served in the order they run out (unsold ÷ rate, ties by platform order), each
///     from the donors slowest first (ties: unlinked first, as its quota moves without a platform call,
///     then platform order), and only from a donor whose rate is
///     strictly lower than its own: quota never moves toward a platform that sells slower.
///     A move is min(what the receiver lacks, what the donor gives); a move below the minimum
///     transfer is skipped (no churn), so planning again after the plan gives no transfer.
///   - Every linked platform then publishes its new allocation (never below what it sold): shrinks
///     first, each confirmed, then the transfers, then the grows. A donor's shrink is confirmed before
///     its allocation moves, so at every step each platform offers at most its allocation, and G2
///     (Σ max(published − sold, 0) ≤ Σ max(allocation − sold, 0)) holds throughout. An unlinked
///     donor publishes nothing, so its allocation moves without a shrink.
///   - A linked platform whose published capacity differs from its allocation is brought back to it
///     (a stale or failed publish) by the same shrink-confirm-grow order.
public struct RebalancePolicy: Sendable, Hashable {
    /// How eager the rebalancer is to move quota.
    public struct Configuration: Sendable, Hashable {
        /// How far ahead a platform's need is projected, in seconds (default 300: five minutes).
        public var horizonSeconds: Double
        /// Unsold tickets a linked platform keeps whatever its velocity (default 5), so a platform
        /// that has gone quiet can still sell when a buyer comes.
        public var minimumReserve: Int
        /// The smallest move, in tickets (default 5).
        public var minimumTransferTickets: Int
        /// The smallest move as a share of C − S (default 0.01: 1%); the larger of the two applies.
        public var minimumTransferShare: Ratio
        /// Whether quota moves between platforms at all (default true). False is a static split:
        /// the plan still publishes each allocation and closes the platforms past the soft cap.
        public var movesQuota: Bool

        /// 0.01: a move is at least 1% of C − S.
        public static let defaultMinimumTransferShare = Ratio(exactly: 10_000)

        public init(
            horizonSeconds: Double = 300, minimumReserve: Int = 5, minimumTransferTickets: Int = 5,
            minimumTransferShare: Ratio = Configuration.defaultMinimumTransferShare, movesQuota: Bool = true
        ) {
            self.movesQuota = movesQuota
            self.horizonSeconds = horizonSeconds.isFinite ? min(max(horizonSeconds, 0), 86_400) : 300
            self.minimumReserve = max(minimumReserve, 0)
            self.minimumTransferTickets = max(minimumTransferTickets, 1)
            self.minimumTransferShare = minimumTransferShare
        }
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The smallest move for an event with this capacity policy.
    public func minimumTransfer(for policy: CapacityPolicy) -> Int {
        max(configuration.minimumTransferTickets, configuration.minimumTransferShare.ceilTimes(policy.platformShare))
    }

    /// What a platform is projected to sell over the horizon: ⌈rate × H⌉ tickets.
    public func need(of listing: RebalanceState.Listing) -> Int {
        Int((listing.sellingRate * configuration.horizonSeconds).rounded(.up))
    }

    /// The plan for `state`. Deterministic: the same state gives the same plan.
    public func plan(for state: RebalanceState) -> RebalancePlan {
        if state.mode == .failsafe { return .nothingToDo }
        if state.isPastSoftCap { return closingPlan(for: state) }
        return rebalancingPlan(for: state)
    }

    private func closingPlan(for state: RebalanceState) -> RebalancePlan {
        var steps: [RebalanceStep] = []
        let closing = Platform.allCases.filter { state[$0].linked && state[$0].published != state[$0].sold }
        steps += closing.map(RebalanceStep.close)
        let unconfirmed = Platform.allCases.filter {
            closing.contains($0) || state[$0].unconfirmedPublished != nil
        }
        steps += unconfirmed.map(RebalanceStep.confirmShrink)
        if state.mode == .open { steps.append(.enterRedAlert) }
        return RebalancePlan(steps: steps)
    }

    private func rebalancingPlan(for state: RebalanceState) -> RebalancePlan {
        let transfers = configuration.movesQuota ? self.transfers(for: state) : []
        var allocation = Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, state[$0].allocation) })
        for move in transfers {
            allocation[move.from, default: 0] -= move.tickets
            allocation[move.to, default: 0] += move.tickets
        }
        var shrinks: [RebalanceStep] = []
        var confirms: [RebalanceStep] = []
        var grows: [RebalanceStep] = []
        for platform in Platform.allCases {
            let listing = state[platform]
            guard listing.linked else { continue }
            let target = max(allocation[platform] ?? 0, listing.sold)
            if listing.published > target {
                shrinks.append(.shrink(platform, publishedTo: target))
            } else if listing.published < target {
                grows.append(.grow(platform, publishedTo: target))
            }
            if listing.published > target || listing.unconfirmedPublished != nil {
                confirms.append(.confirmShrink(platform))
            }
        }
        let moves = transfers.map { RebalanceStep.transfer(from: $0.from, to: $0.to, tickets: $0.tickets) }
        return RebalancePlan(steps: shrinks + confirms + moves + grows)
    }

    /// The allocation moves of the open-mode rule, in order.
    private func transfers(for state: RebalanceState) -> [(from: Platform, to: Platform, tickets: Int)] {
        let minimum = minimumTransfer(for: state.policy)
        var gives: [Platform: Int] = [:]
        var lacks: [Platform: Int] = [:]
        for platform in Platform.allCases {
            let listing = state[platform]
            let unsold = listing.unsoldAllocation
            if listing.linked {
                let need = self.need(of: listing)
                gives[platform] = max(unsold - max(need, configuration.minimumReserve), 0)
                lacks[platform] = listing.sellingRate > 0 ? max(need - unsold, 0) : 0
            } else {
                gives[platform] = unsold
                lacks[platform] = 0
            }
        }
        let receivers = Platform.allCases.filter { (lacks[$0] ?? 0) > 0 }.sorted { a, b in
            // Runs out sooner: unsold_a / rate_a < unsold_b / rate_b (rates are positive here).
            let lhs = Double(state[a].unsoldAllocation) * state[b].sellingRate
            let rhs = Double(state[b].unsoldAllocation) * state[a].sellingRate
            return lhs != rhs ? lhs < rhs : a < b
        }
        let donors = Platform.allCases.filter { (gives[$0] ?? 0) > 0 }.sorted { a, b in
            let (ra, rb) = (state[a].sellingRate, state[b].sellingRate)
            if ra != rb { return ra < rb }
            if state[a].linked != state[b].linked { return !state[a].linked }
            return a < b
        }
        var moves: [(from: Platform, to: Platform, tickets: Int)] = []
        for receiver in receivers {
            for donor in donors where state[donor].sellingRate < state[receiver].sellingRate {
                let tickets = min(lacks[receiver] ?? 0, gives[donor] ?? 0)
                guard tickets >= minimum else { continue }
                moves.append((donor, receiver, tickets))
                lacks[receiver, default: 0] -= tickets
                gives[donor, default: 0] -= tickets
            }
        }
        return moves
    }
}
