import Foundation
import Logging
import Metrics
import TrafficPoliceCore

extension Rebalancer {
    /// How a plan's performance ended.
    enum PlanEnd {
        /// Every step done.
        case done
        /// Plan again from fresh counters (a platform refused a capacity below what it sold, or the
        /// mode changed under the plan).
        case replan
        /// Stopped: a step failed or the lock was lost; the next pass starts over.
        case stopped
    }

    /// One pass over one event: lock, fence, plan, perform. Returns false when it failed (the
    /// watch then backs off); a pass another instance holds the lock for counts as done.
    /// `requestedBy`: the operator who asked for it (logged as `OPERATOR`).
    func pass(_ event: WatchedEvent, reason: RebalanceTrigger.Reason, requestedBy: String? = nil) async -> Bool {
        let id = event.record.id
        var metadata: Logger.Metadata = ["EVENT_ID": "\(id.rawValue)", "REASON": "\(reason.rawValue)"]
        if let requestedBy { metadata["OPERATOR"] = "\(requestedBy)" }
        let lease: EventLock.Lease
        do {
            guard let taken = try await locks.acquire(id, ttl: configuration.lockTTL) else { return true }
            lease = taken
        } catch {
            logger.warning("cannot take the event's rebalance lock", metadata: metadata.merging(["ERROR": "\(error)"]) { $1 })
            return false
        }
        defer {
            let locks = self.locks
            Task { _ = try? await locks.release(lease) }
        }
        do {
            let fence = try await desk.reservations.grantFence(event: id)
            try await desk.ledger.recordFence(fence, event: id)
            metadata["FENCE"] = "\(fence)"
            var watch = watches[id] ?? EventWatch(trigger: RebalanceTrigger(configuration: configuration.trigger))
            defer { watches[id] = watch }
            try await loadPublished(event, watch: &watch)
            let policy = RebalancePolicy(configuration: configuration.policy)
            var end = PlanEnd.done
            for _ in 0..<Self.plansPerPass {
                guard let counters = try await desk.reservations.counters(event: id) else { return false }
                await recount(event, counters: counters, watch: &watch)
                let state = self.state(event, counters: counters, watch: &watch)
                let plan = policy.plan(for: state)
                guard !plan.isEmpty else {
                    end = .done
                    break
                }
                if watch.closingSince == nil, state.mode == .open, state.isPastSoftCap { watch.closingSince = clock.now }
                logger.info("rebalance plan", metadata: metadata.merging(["PLAN": "\(plan)"]) { $1 })
                end = try await perform(
                    plan, event: event, counters: counters, fence: fence, lease: lease, watch: &watch,
                    metadata: metadata)
                guard end == .replan else { break }
            }
            switch end {
            case .done: break
            case .stopped: return false
            case .replan:
                logger.warning(
                    "the platforms still refuse after \(Self.plansPerPass) plans: trying again at a later pass",
                    metadata: metadata)
                return false
            }
            announceClosed(event, watch: &watch)
            return true
        } catch {
            logger.warning("rebalance pass failed", metadata: metadata.merging(["ERROR": "\(error)"]) { $1 })
            return false
        }
    }

    /// What each linked platform publishes: the ledger's record (written before a grow and after a
    /// shrink, so it is never below what the platform offers), and on the first pass after the
    /// daemon starts what each platform says (its capacity may have been set by hand, or before the
    /// daemon ever published): that is written to the ledger, so that later passes start from it
    /// too. A platform without a limit (Luma does not say; a Meetup limit of 0) counts as unlimited
    /// until the rebalancer publishes a capacity there. Throws when a platform cannot be read:
    /// nothing is planned on a guess.
    private func loadPublished(_ event: WatchedEvent, watch: inout EventWatch) async throws {
        let listings = try await desk.ledger.listings(event.record.id)
        var published: [Platform: Int] = [:]
        for platform in event.listings.keys {
            published[platform] =
                watch.unlimitedUntilPublished.contains(platform) ? Self.unlimited : listings[platform]?.published ?? 0
        }
        if !watch.readBack {
            for (platform, reference) in event.listings {
                let read = try await publisher.readCapacity(reference)
                let shown: Int? =
                    read.closed ? read.sold ?? 0 : read.capacityKnown ? read.capacity : nil
                guard let shown else {
                    published[platform] = Self.unlimited
                    watch.unlimitedUntilPublished.insert(platform)
                    continue
                }
                published[platform] = shown
                if shown != listings[platform]?.published {
                    try await desk.ledger.recordReadBack(event: event.record.id, platform: platform, capacity: shown)
                }
            }
            watch.readBack = true
        }
        watch.published = published
    }

    /// Plans one pass makes at most when platforms refuse steps (each refusal re-reads and plans again).
    static var plansPerPass: Int { 3 }

    /// Reads again what a platform sold where its last word is above the counters but no longer
    /// trusted (a sale it counted may have been cancelled there since): one read, instead of a close
    /// at the counters' figure that the platform may refuse. Unreadable: planned with the counters.
    private func recount(_ event: WatchedEvent, counters: EventCounters, watch: inout EventWatch) async {
        let counted = Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, counters.sold[.platform($0)] ?? 0) })
        for platform in watch.stale(counted: counted, at: now, trust: milliseconds(configuration.platformCountTrust)) {
            watch.forget(platform)
            guard let reference = event.listings[platform],
                let said = try? await publisher.read(reference).sold, said > counted[platform] ?? 0
            else { continue }
            watch.remember(platform, said: said, at: now)
        }
    }

    /// What an unlimited listing counts as offering.
    static var unlimited: Int { 1 << 40 }

    /// The policy's view: the counters, with each platform's sold raised to what the platform itself
    /// last said it sold (a refusal tells it) while the counters lag behind.
    private func state(_ event: WatchedEvent, counters: EventCounters, watch: inout EventWatch) -> RebalanceState {
        let velocities = watch.trigger.velocities(at: now)
        var listings: [Platform: RebalanceState.Listing] = [:]
        for platform in Platform.allCases {
            let linked = event.listings[platform] != nil
            let counted = counters.sold[.platform(platform)] ?? 0
            let claimed = watch.claimedSold(
                platform, counted: counted, at: now, trust: milliseconds(configuration.platformCountTrust))
            listings[platform] = RebalanceState.Listing(
                linked: linked, allocation: counters.allocation[platform] ?? 0,
                published: watch.published[platform] ?? 0, sold: max(counted, claimed ?? 0),
                velocity: velocities[platform] ?? 0, unconfirmedPublished: watch.unconfirmed[platform])
        }
        return RebalanceState(
            policy: event.record.policy, mode: counters.mode, boxOfficeSold: counters.sold[.boxOffice] ?? 0,
            listings: listings)
    }

    /// Performs the plan's steps in order.
    private func perform(
        _ plan: RebalancePlan, event: WatchedEvent, counters: EventCounters, fence: Int, lease: EventLock.Lease,
        watch: inout EventWatch, metadata: Logger.Metadata
    ) async throws -> PlanEnd {
        let id = event.record.id
        var sold = Dictionary(
            uniqueKeysWithValues: Platform.allCases.map {
                ($0, max(counters.sold[.platform($0)] ?? 0, watch.platformSold[$0] ?? 0))
            })
        var failedCloses: Set<Platform> = []
        var checkedBeforeGrow = false
        var counted: Set<Platform> = []
        var allocation = counters.allocation
        for step in plan.steps {
            guard gate.isOpen else {
                // Fail-safe began during the pass: nothing more is published until it ends.
                logger.notice("fail-safe: the rebalance plan stops", metadata: metadata)
                return .stopped
            }
            guard try await locks.renew(lease) else {
                logger.warning("lost the event's rebalance lock: stopping the plan", metadata: metadata)
                return .stopped
            }
            var stepMetadata = metadata
            stepMetadata["STEP"] = "\(step)"
            switch step {
            case .shrink(let platform, let capacity):
                guard let reference = event.listings[platform] else { continue }
                do {
                    try await publisher.publish(capacity, on: reference)
                } catch let refusal as CapacityPublishError where refusal.isRefusal {
                    return try await refused(reference, refusal, event: id, fence: fence, watch: &watch, metadata: stepMetadata)
                } catch {
                    try await publishFailed(id, platform, fence, error, stepMetadata)
                    return .stopped
                }
                lowered(platform, to: capacity, watch: &watch)
                try await desk.ledger.recordPublished(
                    event: id, platform: platform, capacity: capacity, sold: sold[platform] ?? 0, kind: .shrink,
                    fence: fence, confirmed: false)
                watch.unlimitedUntilPublished.remove(platform)
                Counter(label: "traffic_police_capacity_pushes_total", dimensions: [("platform", platform.rawValue), ("kind", "shrink")]).increment()
            case .close(let platform):
                guard let reference = event.listings[platform] else { continue }
                let closedAt = try await close(
                    reference, sold: sold[platform] ?? 0, event: id, fence: fence, metadata: stepMetadata)
                guard let closedAt else {
                    failedCloses.insert(platform)
                    continue
                }
                if closedAt > sold[platform] ?? 0 {
                    // The platform sold more than its orders that reached us: plan with its count until
                    // ours catches up, or every pass would close it again (and spend its budget on that).
                    watch.remember(platform, said: closedAt, at: now)
                }
                sold[platform] = closedAt
                lowered(platform, to: closedAt, watch: &watch)
                try await desk.ledger.recordPublished(
                    event: id, platform: platform, capacity: closedAt, sold: closedAt, kind: .close, fence: fence,
                    confirmed: false)
                watch.unlimitedUntilPublished.remove(platform)
                Counter(label: "traffic_police_capacity_pushes_total", dimensions: [("platform", platform.rawValue), ("kind", "close")]).increment()
            case .confirmShrink(let platform):
                guard let reference = event.listings[platform], !failedCloses.contains(platform) else { continue }
                let target = watch.published[platform] ?? 0
                let confirmed = try await publisher.confirm(
                    atMost: target, on: reference, attempts: configuration.confirmAttempts,
                    interval: configuration.confirmInterval)
                guard confirmed else {
                    logger.warning(
                        "the platform does not show the lower capacity yet: stopping the plan before anything depends on it",
                        metadata: stepMetadata)
                    return .stopped
                }
                watch.unconfirmed[platform] = nil
            case .transfer(let from, let to, let tickets):
                if let reference = event.listings[from], !counted.contains(from) {
                    // Its orders reach us late (webhooks, batched reads, polls): count what it sold
                    // on its own side, so that no quota it already sold moves away.
                    counted.insert(from)
                    do {
                        if let said = try await publisher.read(reference).sold {
                            watch.remember(from, said: said, at: now)
                        }
                    } catch {
                        logger.warning(
                            "cannot count what the donor sold: no quota moves from it",
                            metadata: stepMetadata.merging(["ERROR": "\(error)"]) { $1 })
                        return .stopped
                    }
                }
                let result = try await desk.reservations.transfer(
                    event: id, from: from, to: to, tickets: tickets, fence: fence,
                    keepingAtLeast: max(
                        watch.published[from] ?? 0, watch.unconfirmed[from] ?? 0, watch.platformSold[from] ?? 0))
                switch result.outcome {
                case .staleFence:
                    logger.warning("a later fencing token exists: another rebalancer took over", metadata: stepMetadata)
                    return .stopped
                case .notOpen:
                    return .replan
                case .transferred:
                    allocation = result.allocation
                    guard result.moved > 0 else { continue }
                    _ = try await desk.ledger.recordTransfer(event: id, from: from, to: to, moved: result.moved, fence: fence)
                    Counter(label: "traffic_police_quota_moved_tickets_total", dimensions: [("from", from.rawValue), ("to", to.rawValue)])
                        .increment(by: result.moved)
                    logger.notice(
                        "moved quota", metadata: stepMetadata.merging(["MOVED": "\(result.moved)"]) { $1 })
                }
            case .grow(let platform, let planned):
                guard let reference = event.listings[platform] else { continue }
                if !checkedBeforeGrow {
                    // The mode or allocations may have changed since the snapshot: grow only within what Redis holds now.
                    guard let live = try await desk.reservations.counters(event: id), live.mode == .open else {
                        return .replan
                    }
                    allocation = live.allocation
                    checkedBeforeGrow = true
                }
                let capacity = min(planned, max(allocation[platform] ?? 0, sold[platform] ?? 0))
                guard capacity > (watch.published[platform] ?? 0) else { continue }
                // The ledger first: its published is never below what the platform may offer.
                try await desk.ledger.recordPublished(
                    event: id, platform: platform, capacity: capacity, sold: sold[platform] ?? 0, kind: .grow,
                    fence: fence, confirmed: false)
                do {
                    try await publisher.publish(capacity, on: reference)
                } catch let refusal as CapacityPublishError where refusal.isRefusal {
                    // The ledger says `capacity` (never below what the platform may offer): keep it.
                    watch.published[platform] = max(watch.published[platform] ?? 0, capacity)
                    return try await refused(reference, refusal, event: id, fence: fence, watch: &watch, metadata: stepMetadata)
                } catch {
                    try await publishFailed(id, platform, fence, error, stepMetadata)
                    return .stopped
                }
                watch.published[platform] = capacity
                watch.unlimitedUntilPublished.remove(platform)
                Counter(label: "traffic_police_capacity_pushes_total", dimensions: [("platform", platform.rawValue), ("kind", "grow")]).increment()
            case .enterRedAlert:
                guard failedCloses.isEmpty else { return .stopped }
                try await desk.reservations.setMode(.redAlert, event: id)
                try await desk.ledger.setMode(.redAlert, event: id)
                try await desk.ledger.recordCapacityEvent(
                    event: id, platform: nil, kind: .redAlert, fence: fence, detail: "sold reached the soft cap")
            }
        }
        return failedCloses.isEmpty ? .done : .stopped
    }

    /// Closes one listing at what it sold; when the platform counts more sold than the counters
    /// (a sale whose webhook has not arrived), closes at the platform's count. Nil when it failed.
    private func close(
        _ reference: ListingReference, sold: Int, event: EventID, fence: Int, metadata: Logger.Metadata
    ) async throws -> Int? {
        do {
            try await publisher.close(reference, sold: sold)
            return sold
        } catch CapacityPublishError.tooSmall(let platformSold?, _) where platformSold > sold {
            do {
                try await publisher.close(reference, sold: platformSold)
                return platformSold
            } catch {
                try await publishFailed(event, reference.platform, fence, error, metadata)
                return nil
            }
        } catch {
            try await publishFailed(event, reference.platform, fence, error, metadata)
            return nil
        }
    }

    /// A shrink or close sent: the platform may offer the old capacity until it is read back.
    private func lowered(_ platform: Platform, to capacity: Int, watch: inout EventWatch) {
        let before = watch.published[platform] ?? 0
        if capacity < before {
            watch.unconfirmed[platform] = max(watch.unconfirmed[platform] ?? before, before)
        }
        watch.published[platform] = capacity
    }

    /// A platform refused a capacity (Eventbrite `CAPACITY_TOTAL_TOO_SMALL`, a Meetup mutation
    /// error, …): counts what it sold on its own side (its orders may not have reached us yet), keeps
    /// that count for planning, records the refusal, and asks for a new plan; stops when the platform
    /// cannot be read.
    private func refused(
        _ reference: ListingReference, _ refusal: CapacityPublishError, event: EventID, fence: Int,
        watch: inout EventWatch, metadata: Logger.Metadata
    ) async throws -> PlanEnd {
        let platform = reference.platform
        var platformSold = refusal.platformSold
        if platformSold == nil {
            do {
                platformSold = try await publisher.read(reference).sold
            } catch {
                logger.warning(
                    "the platform refused a capacity and cannot be read: stopping the plan",
                    metadata: metadata.merging(["REFUSAL": "\(refusal)", "ERROR": "\(error)"]) { $1 })
                try await publishFailed(event, platform, fence, refusal, metadata)
                return .stopped
            }
        }
        if let platformSold { watch.remember(platform, said: platformSold, at: now) }
        Counter(label: "traffic_police_capacity_refusals_total", dimensions: [("platform", platform.rawValue)]).increment()
        logger.notice(
            "the platform refused the capacity: planning again with what it sold",
            metadata: metadata.merging(
                ["PLATFORM_SOLD": "\(platformSold.map(String.init) ?? "?")", "REFUSAL": "\(refusal)"]) { $1 })
        try await desk.ledger.recordCapacityEvent(
            event: event, platform: platform, kind: .refused, fence: fence,
            detail: "sold on the platform: \(platformSold.map(String.init) ?? "unknown"); \(refusal)")
        return .replan
    }

    private func publishFailed(
        _ event: EventID, _ platform: Platform, _ fence: Int, _ error: any Error, _ metadata: Logger.Metadata
    ) async throws {
        Counter(label: "traffic_police_capacity_push_failures_total", dimensions: [("platform", platform.rawValue)]).increment()
        logger.error("capacity push failed", metadata: metadata.merging(["ERROR": "\(error)"]) { $1 })
        try await desk.ledger.recordCapacityEvent(
            event: event, platform: platform, kind: .publishFailed, fence: fence, detail: "\(error)")
    }

    /// Logs, once per red alert, that every platform is closed, and how long it took from when this
    /// daemon first saw the soft cap reached (`closingSince`).
    func announceClosed(_ event: WatchedEvent, watch: inout EventWatch) {
        guard watch.redAlertSince != nil, let since = watch.closingSince, !watch.closedAnnounced,
            watch.unconfirmed.isEmpty
        else { return }
        watch.closedAnnounced = true
        let elapsed = elapsed(since: since)
        Timer(label: "traffic_police_red_alert_close_seconds").recordMilliseconds(elapsed)
        logger.notice(
            "red alert: every platform is closed",
            metadata: [
                "EVENT_ID": "\(event.record.id.rawValue)", "MODE": "red_alert", "ELAPSED_MS": "\(elapsed)",
                "PLATFORMS": "\(event.listings.keys.map(\.rawValue).sorted().joined(separator: ","))",
            ])
    }
}
