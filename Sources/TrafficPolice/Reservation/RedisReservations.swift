import RedisBridge
import TrafficPoliceCore

/// The reservation path: each decision is one atomic Lua step in Redis (``ReservationScripts``).
///
/// A thin shell: it passes arguments to a script and turns the reply into the core's value types.
public struct RedisReservations: Sendable {
    public let redis: RedisClient

    public init(redis: RedisClient) { self.redis = redis }

    /// Decides one platform order: accepted, absorbed or overbooked; a repeated order id gets its first outcome.
    public func reserve(event: EventID, platform: Platform, orderID: String, quantity: Int) async throws
        -> ReservationResult
    {
        try EventStock.validate(quantity: quantity)
        let reply = try await run(ReservationScripts.reserve, event, [platform.rawValue, orderID, String(quantity)])
        return try Self.reservationResult(reply)
    }

    /// Decides many orders in one pipeline (same results as calling ``reserve`` for each, in order).
    public func reserveBatch(event: EventID, orders: [(platform: Platform, orderID: String, quantity: Int)])
        async throws -> [ReservationResult]
    {
        for order in orders { try EventStock.validate(quantity: order.quantity) }
        let keys = EventKeys(event).all
        let replies: [RedisReply]
        do {
            replies = try await redis.evalSHAPipeline(
                ReservationScripts.reserve,
                calls: orders.map { (keys, [$0.platform.rawValue, $0.orderID, String($0.quantity)]) })
        } catch let error as RedisError {
            throw ReservationError.redis(error)
        }
        return try replies.map { reply in
            if case .error(let message) = reply { throw Self.mapServerError(message, event) }
            return try Self.reservationResult(reply)
        }
    }

    /// Releases one order (refund or cancellation); idempotent.
    public func release(event: EventID, channel: SalesChannel, orderID: String) async throws -> ReleaseResult {
        let reply = try await run(ReservationScripts.release, event, [channel.name, orderID])
        guard let text = reply.string, let result = ReleaseResult(rawValue: text) else {
            throw ReservationError.unexpectedReply("\(reply)")
        }
        return result
    }

    /// Amends one platform order to the quantity the platform now gives it (0 releases it); see
    /// `EventStock.amend` for the rules. Idempotent per target quantity; stale by version.
    public func amend(event: EventID, platform: Platform, orderID: String, quantity: Int, version: Int64 = 0)
        async throws -> AmendmentResult
    {
        try EventStock.validate(amendedQuantity: quantity, version: version)
        let reply = try await run(
            ReservationScripts.amend, event, [platform.rawValue, orderID, String(quantity), String(version)])
        guard let items = reply.array, items.count == 6, let changeText = items[0].string,
            let change = AmendmentResult.Change(rawValue: changeText), let encoded = items[1].string,
            let order = Self.decode(encoded, channel: .platform(platform), orderID: orderID),
            let previous = items[2].integer, let excess = items[3].integer, let stock = items[4].integer,
            let entered = items[5].integer
        else {
            throw ReservationError.unexpectedReply("\(reply)")
        }
        return AmendmentResult(
            change: change, order: order, previousQuantity: Int(previous), excess: Int(excess), stockAfter: Int(stock),
            enteredRedAlert: entered == 1)
    }

    /// The order as Redis holds it now, or nil when Redis never saw it.
    public func order(event: EventID, channel: SalesChannel, orderID: String) async throws -> OrderRecord? {
        let reply: RedisReply
        do {
            reply = try await redis.send(["HGET", EventKeys(event).orders, OrderRecord.key(channel, orderID)])
        } catch let error as RedisError {
            throw ReservationError.redis(error)
        }
        return reply.string.flatMap { Self.decode($0, channel: channel, orderID: orderID) }
    }

    /// A box-office sale from the free stock; idempotent per sale id; refused in fail-safe.
    public func sellBoxOffice(event: EventID, saleID: String, quantity: Int) async throws -> BoxOfficeResult {
        try EventStock.validate(quantity: quantity)
        let reply = try await run(ReservationScripts.sellBoxOffice, event, [saleID, String(quantity)])
        guard let items = reply.array, items.count == 4, let kind = items[0].string,
            let number = items[1].integer, let stock = items[2].integer, let entered = items[3].integer
        else {
            throw ReservationError.unexpectedReply("\(reply)")
        }
        switch kind {
        case "sold": return .sold(stockAfter: Int(stock), enteredRedAlert: entered == 1)
        case "duplicate": return .duplicate(quantity: Int(number))
        case "refused": return .refused(available: Int(number))
        case "failsafe": return .failsafe
        default: throw ReservationError.unexpectedReply("\(reply)")
        }
    }

    /// Loads the event's counters from `stock` (the rebuild from the ledger), in one atomic step.
    /// With `replacing` false it loads only when Redis has no counters for the event (returns
    /// false when they were there); `replacing` is for recovery, when nothing else is deciding.
    @discardableResult
    public func load(_ stock: EventStock, event: EventID, replacing: Bool = true) async throws -> Bool {
        var arguments = [
            replacing ? "replace" : "if_absent",
            String(stock.stock), String(stock.policy.capacity), String(stock.policy.safetyStock),
            String(stock.policy.softCap), stock.mode.rawValue,
        ]
        arguments += Platform.allCases.map { String(stock.allocation[$0] ?? 0) }
        arguments += SalesChannel.all.map { String(stock.sold[$0] ?? 0) }
        arguments.append(String(stock.fence))
        for order in stock.orders.values.sorted(by: { $0.key < $1.key }) {
            arguments.append(order.key)
            arguments.append(Self.encode(order))
        }
        return try await run(ReservationScripts.load, event, arguments).integer == 1
    }

    /// Grants the next fencing token for the event (what a rebalancer takes with the event's lock):
    /// every earlier token becomes stale for ``transfer(event:from:to:tickets:fence:keepingAtLeast:)``.
    public func grantFence(event: EventID) async throws -> Int {
        let reply = try await run(ReservationScripts.grantFence, event, [])
        guard let fence = reply.integer else { throw ReservationError.unexpectedReply("\(reply)") }
        return Int(fence)
    }

    /// The event's fence counter (the last token granted, 0 before any), or nil when the event is not loaded.
    public func fence(event: EventID) async throws -> Int? {
        let keys = EventKeys(event)
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline([["GET", keys.stock], ["HGET", keys.meta, "fence"]])
        } catch let error as RedisError {
            throw ReservationError.redis(error)
        }
        guard replies.count == 2, replies[0].integer != nil else { return nil }
        return replies[1].string.flatMap { Int($0) } ?? 0
    }

    /// Moves unsold allocation between platforms in one atomic step, refused with a stale fence or
    /// unless the event is open; see `EventStock.transfer` for the rules.
    public func transfer(
        event: EventID, from donor: Platform, to receiver: Platform, tickets: Int, fence: Int, keepingAtLeast: Int
    ) async throws -> TransferResult {
        try EventStock.validateTransfer(from: donor, to: receiver, tickets: tickets, fence: fence, keepingAtLeast: keepingAtLeast)
        let reply = try await run(
            ReservationScripts.transfer, event,
            [donor.rawValue, receiver.rawValue, String(tickets), String(fence), String(keepingAtLeast)])
        guard let items = reply.array, items.count == 6, let outcomeText = items[0].string,
            let outcome = TransferResult.Outcome(rawValue: outcomeText), let moved = items[1].integer,
            let current = items[2].integer
        else {
            throw ReservationError.unexpectedReply("\(reply)")
        }
        var allocation: [Platform: Int] = [:]
        for (index, platform) in [Platform.eventbrite, .luma, .meetup].enumerated() {
            guard let value = items[3 + index].integer else { throw ReservationError.unexpectedReply("\(reply)") }
            allocation[platform] = Int(value)
        }
        return TransferResult(outcome: outcome, moved: Int(moved), fence: Int(current), allocation: allocation)
    }

    /// Sets the event's mode (closing the platforms for `red_alert` and `closed`); returns the previous mode.
    @discardableResult
    public func setMode(_ mode: EventMode, event: EventID) async throws -> EventMode {
        let reply = try await run(ReservationScripts.setMode, event, [mode.rawValue])
        guard let text = reply.string, let previous = EventMode(rawValue: text) else {
            throw ReservationError.unexpectedReply("\(reply)")
        }
        return previous
    }

    /// The live counters, or nil when the event is not loaded.
    public func counters(event: EventID) async throws -> EventCounters? {
        let keys = EventKeys(event)
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline([
                ["GET", keys.stock],
                ["HGETALL", keys.allocation],
                ["HGETALL", keys.sold],
                ["HGETALL", keys.meta],
            ])
        } catch let error as RedisError {
            throw ReservationError.redis(error)
        }
        guard replies.count == 4, let stock = replies[0].integer else { return nil }
        let allocation = Self.integerHash(replies[1])
        let sold = Self.integerHash(replies[2])
        let meta = Self.stringHash(replies[3])
        return EventCounters(
            capacity: meta["capacity"].flatMap { Int($0) } ?? 0,
            stock: Int(stock),
            allocation: Dictionary(uniqueKeysWithValues: Platform.allCases.map { ($0, allocation[$0.rawValue] ?? 0) }),
            sold: Dictionary(uniqueKeysWithValues: SalesChannel.all.map { ($0, sold[$0.name] ?? 0) }),
            mode: meta["mode"].flatMap(EventMode.init(rawValue:)) ?? .open)
    }

    // MARK: - Replies

    private func run(_ script: RedisScript, _ event: EventID, _ arguments: [String]) async throws -> RedisReply {
        do {
            return try await redis.evalSHA(script, keys: EventKeys(event).all, arguments: arguments)
        } catch let error as RedisError where error.kind == .serverError {
            throw Self.mapServerError(error.message, event)
        } catch let error as RedisError {
            throw ReservationError.redis(error)
        }
    }

    private static func mapServerError(_ message: String, _ event: EventID) -> any Error {
        if message.hasPrefix("NOEVENT") { return ReservationError.eventNotLoaded(event.rawValue) }
        if message.contains("quantity") || message.contains("unknown platform") || message.contains("transfer") {
            return DomainError(message.hasPrefix("ERR ") ? String(message.dropFirst(4)) : message)
        }
        return ReservationError.redis(RedisError(kind: .serverError, message: message))
    }

    static func reservationResult(_ reply: RedisReply) throws -> ReservationResult {
        guard let items = reply.array, items.count == 7, let outcomeText = items[1].string,
            let outcome = ReservationOutcome(rawValue: outcomeText), let duplicate = items[2].integer,
            let excess = items[3].integer, let stock = items[4].integer, let entered = items[5].integer,
            let quantity = items[6].integer
        else {
            throw ReservationError.unexpectedReply("\(reply)")
        }
        return ReservationResult(
            outcome: outcome, quantity: Int(quantity), duplicate: duplicate == 1, excess: Int(excess), stockAfter: Int(stock),
            enteredRedAlert: entered == 1)
    }

    /// `outcome|quantity|excess|released`, then `|target|version|revision` when the order carries
    /// anything of an amendment (as the scripts' `encode_order`).
    static func encode(_ order: OrderRecord) -> String {
        let plain = "\(order.outcome.rawValue)|\(order.quantity)|\(order.excess)|\(order.released ? 1 : 0)"
        let derivedTarget = order.released ? 0 : order.quantity
        guard order.revision > 0 || order.version != 0 || order.target != derivedTarget else { return plain }
        return plain + "|\(order.target)|\(order.version)|\(order.revision)"
    }

    /// Reads an order from its encoding in the orders hash; nil when it is not one.
    static func decode(_ text: String, channel: SalesChannel, orderID: String) -> OrderRecord? {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4 || parts.count == 7, let outcome = ReservationOutcome(rawValue: String(parts[0])),
            let quantity = Int(parts[1]), let excess = Int(parts[2]), parts[3] == "0" || parts[3] == "1"
        else { return nil }
        var order = OrderRecord(
            channel: channel, orderID: orderID, quantity: quantity, outcome: outcome, excess: excess,
            released: parts[3] == "1")
        if parts.count == 7 {
            guard let target = Int(parts[4]), let version = Int64(parts[5]), let revision = Int(parts[6]) else {
                return nil
            }
            order.target = target
            order.version = version
            order.revision = revision
        }
        return order
    }

    private static func stringHash(_ reply: RedisReply) -> [String: String] {
        guard let items = reply.array else { return [:] }
        var result: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let key = items[index].string, let value = items[index + 1].string { result[key] = value }
            index += 2
        }
        return result
    }

    private static func integerHash(_ reply: RedisReply) -> [String: Int] {
        stringHash(reply).compactMapValues { Int($0) }
    }
}
