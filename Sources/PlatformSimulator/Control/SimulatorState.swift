import Foundation

/// Everything the simulator knows, and every decision it makes, as one value: requests in,
/// responses and planned webhook deliveries out. No I/O; `Simulator` wraps it in a lock.
public struct SimulatorState: Sendable {
    public private(set) var configuration: SimulatorConfiguration
    /// `http://127.0.0.1:P` of the API listener (for Eventbrite `resource_uri` and `api_url`).
    public var apiBase = "http://127.0.0.1:0"
    public var eventbrite = EventbriteStore()
    public var luma = LumaStore()
    public var meetup = MeetupStore()
    var eventbriteLimiter: FixedWindowLimiter
    var lumaLimiter: BlockingWindowLimiter
    var meetupLimiter: RollingPointsLimiter
    var random: SeededRandom
    public let seed: UInt64
    public private(set) var sales: [SaleRecord] = []
    var refused: [Platform: Int] = [:]
    var requests: [RequestRecord] = []
    var capacityChanges: [CapacityChange] = []
    var webhooks: [WebhookRecord] = []
    private var webhookIndex: [String: Int] = [:]
    private var counter = 0
    /// Mixed into webhook delivery ids so that runs with the same seed never repeat one.
    private let instanceTag = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)

    public init(configuration: SimulatorConfiguration = SimulatorConfiguration(), seed: UInt64 = 1) {
        self.configuration = configuration
        self.seed = seed
        random = SeededRandom(seed: seed)
        eventbriteLimiter = FixedWindowLimiter(
            limit: configuration.eventbriteCallsPerWindow, window: configuration.eventbriteWindowSeconds)
        lumaLimiter = BlockingWindowLimiter(
            limit: configuration.lumaRequestsPerWindow, window: configuration.lumaWindowSeconds,
            block: configuration.lumaBlockSeconds)
        meetupLimiter = RollingPointsLimiter(
            limit: configuration.meetupPointsPerWindow, window: configuration.meetupWindowSeconds)
    }

    /// `POST /control/config`: applies a partial configuration; limiters take the new limits at once.
    public mutating func reconfigure(_ patch: JSON) throws {
        try configuration.apply(patch)
        eventbriteLimiter.limit = configuration.eventbriteCallsPerWindow
        eventbriteLimiter.window = configuration.eventbriteWindowSeconds
        lumaLimiter.limit = configuration.lumaRequestsPerWindow
        lumaLimiter.window = configuration.lumaWindowSeconds
        lumaLimiter.block = configuration.lumaBlockSeconds
        meetupLimiter.limit = configuration.meetupPointsPerWindow
        meetupLimiter.window = configuration.meetupWindowSeconds
    }

    /// `POST /control/reset`: forgets events, sales, logs and rate-limit windows (keeps the configuration).
    public mutating func reset() {
        let base = apiBase
        self = SimulatorState(configuration: configuration, seed: seed)
        apiBase = base
    }

    private mutating func nextNumber() -> Int {
        counter += 1
        return counter
    }

    // MARK: API

    /// Answers one request to the API listener; returns the planned webhook deliveries it caused.
    public mutating func handleAPI(_ request: SimRequest, now: Double) -> (SimResponse, [WebhookDelivery]) {
        var record = RequestRecord(
            time: now, platform: nil, method: request.method, path: request.uri, status: 404, token: nil,
            points: nil, rateLimited: false)
        var deliveries: [WebhookDelivery] = []
        let response: SimResponse
        if request.path.hasPrefix("/eventbrite/v3/") {
            record.platform = .eventbrite
            response = eventbriteRequest(request, now: now, record: &record)
        } else if request.path.hasPrefix("/luma/") {
            record.platform = .luma
            response = lumaRequest(request, now: now, record: &record, deliveries: &deliveries)
        } else if request.path == "/meetup/gql-ext" || request.path == "/meetup/gql-ext/" {
            record.platform = .meetup
            response = meetupRequest(request, now: now, record: &record)
        } else {
            response = .json(404, ["error": "NOT_FOUND", "message": .string("No simulated platform at \(request.path)")])
        }
        record.status = response.status
        requests.append(record)
        return (response, deliveries)
    }

    private mutating func eventbriteRequest(_ request: SimRequest, now: Double, record: inout RequestRecord) -> SimResponse {
        if request.headers["authorization"] != nil && request.bearerToken == nil {
            return EventbriteRendering.error(400, "INVALID_AUTH_HEADER", "The Authorization header must be \"Bearer <token>\".")
        }
        guard let token = request.bearerToken ?? request.query["token"] else {
            return EventbriteRendering.error(401, "NO_AUTH", "An OAuth token is required for this request.")
        }
        record.token = token
        guard configuration.eventbriteTokens.contains(token) else {
            return EventbriteRendering.error(401, "INVALID_AUTH", "The OAuth token you provided was invalid.")
        }
        if case .limited(let resetAt) = eventbriteLimiter.admit(token, now: now) {
            record.rateLimited = true
            var response = EventbriteRendering.error(
                429, "HIT_RATE_LIMIT",
                "Hourly rate limit has been reached for this token. Default rate limits are 2,000 calls per hour.")
            if configuration.eventbriteRetryAfterSeconds != nil {
                let wait = configuration.eventbriteRetryAfterSeconds ?? 0
                response.headers.append(("Retry-After", String(wait > 0 ? wait : Int((resetAt - now).rounded(.up)))))
            }
            return response
        }
        let api = EventbriteAPI(
            pageSize: configuration.eventbritePageSize, lag: Double(configuration.eventbriteReadLagMs) / 1000,
            base: apiBase + "/eventbrite/v3")
        let subpath = String(request.path.dropFirst("/eventbrite/v3".count))
        let outcome = api.handle(request, subpath: subpath, store: &eventbrite, now: now)
        if let change = outcome.change { capacityChanges.append(change) }
        return outcome.response
    }

    private mutating func lumaRequest(
        _ request: SimRequest, now: Double, record: inout RequestRecord, deliveries: inout [WebhookDelivery]
    ) -> SimResponse {
        guard let key = request.headers["x-luma-api-key"], !key.isEmpty else {
            return LumaError(401, "Missing API key: pass it in the x-luma-api-key header").response
        }
        record.token = key
        guard configuration.lumaKeys.contains(key) else { return LumaError(401, "Invalid API key").response }
        switch lumaLimiter.admit(key, now: now) {
        case .blocked(let limit, let until):
            record.rateLimited = true
            var response = LumaError(429, "Rate limit exceeded, try again later").response
            response.headers += [
                ("Retry-After", String(max(1, Int((until - now).rounded(.up))))),
                ("X-RateLimit-Limit", String(limit)), ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", String(Int(until.rounded(.up)))),
            ]
            return response
        case .admitted(let limit, let remaining, let resetAt):
            let api = LumaAPI(maxPageSize: configuration.lumaMaxPageSize)
            let outcome = api.handle(request, subpath: String(request.path.dropFirst("/luma".count)), store: &luma, now: now)
            if let change = outcome.change { capacityChanges.append(change) }
            if let guestID = outcome.updatedGuest { deliveries += lumaDeliveries(guestID, types: ["guest.updated"], now: now) }
            var response = outcome.response
            response.headers += [
                ("X-RateLimit-Limit", String(limit)), ("X-RateLimit-Remaining", String(remaining)),
                ("X-RateLimit-Reset", String(Int(resetAt.rounded(.up)))),
            ]
            return response
        }
    }

    private mutating func meetupRequest(_ request: SimRequest, now: Double, record: inout RequestRecord) -> SimResponse {
        guard let token = request.bearerToken, configuration.meetupTokens.contains(token) else {
            record.token = request.bearerToken
            return MeetupAPI.error(401, "Not authorized: send Authorization: Bearer <token>", code: "UNAUTHENTICATED")
        }
        record.token = token
        let api = MeetupAPI(maxPageSize: configuration.meetupMaxPageSize, costs: configuration.meetupCosts)
        let outcome = api.handle(request, token: token, store: &meetup, limiter: &meetupLimiter, now: now)
        record.points = outcome.points
        record.rateLimited = outcome.rateLimited
        capacityChanges += outcome.changes
        return outcome.response
    }

    // MARK: Events, sales, cancellations

    /// `POST /control/events`.
    public mutating func createEvent(_ body: JSON, now: Double) -> Result<JSON, ConfigurationError> {
        guard let platform = body["platform"]?.stringValue.flatMap(Platform.init(rawValue:)) else {
            return .failure(ConfigurationError("platform must be eventbrite, luma or meetup"))
        }
        let capacityValue = body["capacity"] ?? .null
        guard capacityValue.isNull || (capacityValue.intValue ?? -1) >= 0 else {
            return .failure(ConfigurationError("capacity must be a non-negative integer or null"))
        }
        let capacity = capacityValue.intValue
        switch platform {
        case .eventbrite:
            let id = body["id"]?.stringValue ?? String(900_000_000 + nextNumber())
            let event = eventbrite.createEvent(
                id: id, capacity: capacity, ticketClassID: body["ticket_class_id"]?.stringValue, now: now)
            return .success(
                ["platform": "eventbrite", "id": .string(id), "ticket_class_id": .string(event.ticketClassID),
                 "capacity": .optional(capacity)])
        case .luma:
            let id = body["id"]?.stringValue ?? "evt-sim\(nextNumber())"
            let event = luma.createEvent(id: id, capacity: capacity, waitlist: body["waitlist"]?.boolValue ?? true, now: now)
            return .success(
                ["platform": "luma", "id": .string(id), "ticket_type_id": .string(event.ticketTypeID),
                 "capacity": .optional(capacity), "waitlist_status": .string(event.waitlistEnabled ? "enabled" : "disabled")])
        case .meetup:
            let id = body["id"]?.stringValue ?? String(300_000_000 + nextNumber())
            meetup.createEvent(id: id, capacity: capacity, now: now)
            return .success(["platform": "meetup", "id": .string(id), "capacity": .optional(capacity), "waitlist_mode": "AUTO"])
        }
    }

    /// Places one sale through the platform's capacity rule. Returns the answer of `POST /control/sales`
    /// (`outcome`: `sold`, `waitlisted` or `refused` with a `reason`) and the webhooks it causes.
    public mutating func placeSale(
        platform: Platform, eventID: String, quantity: Int, buyer: Buyer?, now: Double
    ) -> (JSON, [WebhookDelivery]) {
        let number = sales.count + refused.values.reduce(0, +) + 1
        let buyer = buyer ?? Buyer.numbered(number)
        let platformID: Result<(id: String, waitlisted: Bool), SaleRefusal>
        switch platform {
        case .eventbrite:
            let lag = Double(configuration.eventbriteReadLagMs) / 1000
            platformID = eventbrite.placeOrder(eventID: eventID, quantity: quantity, buyer: buyer, now: now, lag: lag)
                .map { ($0.id, false) }
        case .luma:
            platformID = luma.register(eventID: eventID, quantity: quantity, buyer: buyer, now: now)
                .map { ($0.id, $0.approvalStatus == "waitlist") }
        case .meetup:
            platformID = meetup.rsvp(eventID: eventID, quantity: quantity, buyer: buyer, now: now)
                .map { ($0.id, $0.status == "WAITLIST") }
        }
        switch platformID {
        case .failure(let refusal):
            refused[platform, default: 0] += 1
            return (["outcome": "refused", "reason": .string(refusal.rawValue)], [])
        case .success(let placed):
            let sale = SaleRecord(
                id: "sale-\(sales.count + 1)", platform: platform, eventID: eventID, quantity: quantity, time: now,
                platformID: placed.id)
            sales.append(sale)
            if placed.waitlisted { refused[platform, default: 0] += 1 }
            var deliveries: [WebhookDelivery] = []
            switch platform {
            case .eventbrite: deliveries = eventbriteDelivery(orderID: placed.id, action: "order.placed", now: now)
            case .luma:
                let tickets = luma.guests[placed.id]?.ticketIDs.map { "ticket.registered:\($0)" } ?? []
                deliveries = lumaDeliveries(placed.id, types: ["guest.registered"] + tickets + ["guest.updated"], now: now)
            case .meetup: break
            }
            return (
                ["outcome": .string(placed.waitlisted ? "waitlisted" : "sold"), "sale": sale.json(in: self)],
                deliveries
            )
        }
    }

    /// Cancels a sale (`sale-N` or the platform's own id): Eventbrite refunds (or, with `refund: false`,
    /// cancels) every attendee; Luma declines the guest; Meetup turns the RSVP to NO.
    public mutating func cancelSale(
        platform: Platform?, saleID: String, refund: Bool, now: Double
    ) -> (Result<JSON, LumaError>, [WebhookDelivery]) {
        guard let sale = sales.first(where: { ($0.id == saleID || $0.platformID == saleID) && (platform == nil || $0.platform == platform) })
        else { return (.failure(LumaError(404, "unknown sale \(saleID)")), []) }
        var deliveries: [WebhookDelivery] = []
        var changed = false
        switch sale.platform {
        case .eventbrite:
            changed = eventbrite.cancelOrder(sale.platformID, refund: refund, now: now)
            if changed {
                deliveries = eventbriteDelivery(
                    orderID: sale.platformID, action: refund ? "order.refunded" : "order.updated", now: now)
            }
        case .luma:
            if luma.guests[sale.platformID]?.approvalStatus != "declined",
                case .success = luma.updateStatus(guestID: sale.platformID, status: "declined", now: now)
            {
                changed = true
                deliveries = lumaDeliveries(sale.platformID, types: ["guest.updated"], now: now)
            }
        case .meetup:
            changed = meetup.cancel(sale.platformID, now: now) != nil
        }
        guard changed else { return (.failure(LumaError(409, "sale \(sale.id) is already cancelled")), []) }
        return (.success(sale.json(in: self)), deliveries)
    }

    /// `POST /control/meetup/guests`: the member of RSVP `rsvpID` changes its guests to `guestsCount`
    /// (Meetup has no push: the change shows as a new `updated` on the RSVP).
    public mutating func changeMeetupGuests(rsvpID: String, guestsCount: Int, now: Double) -> Result<JSON, LumaError> {
        guard meetup.rsvps[rsvpID] != nil else { return .failure(LumaError(404, "unknown RSVP \(rsvpID)")) }
        guard let promoted = meetup.setGuests(rsvpID, guestsCount: guestsCount, now: now) else {
            return .failure(LumaError(409, "RSVP \(rsvpID) cannot take \(guestsCount) guests (cancelled, negative or full)"))
        }
        return .success(["rsvp_id": .string(rsvpID), "guests_count": .int(guestsCount), "promoted": .array(promoted.map(JSON.string))])
    }

    /// `POST /control/meetup/mutation-errors`: the next `count` mutations of a Meetup event answer with a
    /// payload error (`code`, `message`) and change nothing.
    public mutating func injectMeetupMutationErrors(_ body: JSON) -> Result<JSON, LumaError> {
        guard let eventID = body["event_id"]?.stringValue, let count = body["count"]?.intValue, count >= 0 else {
            return .failure(LumaError(400, "expected {\"event_id\",\"count\",\"code\"?,\"message\"?}"))
        }
        let code = body["code"]?.stringValue ?? "INTERNAL_ERROR"
        let message = body["message"]?.stringValue ?? "Something went wrong, please try again"
        guard meetup.injectMutationErrors(eventID: eventID, count: count, code: code, message: message) else {
            return .failure(LumaError(404, "unknown Meetup event \(eventID)"))
        }
        return .success(["event_id": .string(eventID), "count": .int(count), "code": .string(code), "message": .string(message)])
    }

    // MARK: Webhooks

    private mutating func plan(
        _ platform: Platform, type: String, orderID: String, target: SimulatorConfiguration.WebhookTarget, body: JSON,
        now: Double
    ) -> WebhookDelivery? {
        let id = "whd_\(instanceTag)\(random.hex(12))"
        let plan = WebhookPlan.draw(
            dropProbability: configuration.webhookDropProbability,
            duplicateProbability: configuration.webhookDuplicateProbability,
            delayMinMs: configuration.webhookDelayMinMs, delayMaxMs: configuration.webhookDelayMaxMs, random: &random)
        webhookIndex[id] = webhooks.count
        webhooks.append(
            WebhookRecord(
                id: id, platform: platform, type: type, orderID: orderID, target: target.json.text, created: now,
                dropped: plan.dropped, duplicated: plan.duplicated))
        guard !plan.dropped else { return nil }
        let bytes = body.serialized()
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if platform == .luma {
            headers += WebhookSignature.headers(
                scheme: configuration.lumaSignatureScheme, secret: configuration.lumaWebhookSecret, id: id,
                timestamp: Int(now), body: bytes)
        }
        return WebhookDelivery(
            id: id, platform: platform, type: type, target: target, headers: headers, body: bytes, delayMs: plan.delayMs,
            copies: plan.duplicated ? 2 : 1)
    }

    private mutating func eventbriteDelivery(orderID: String, action: String, now: Double) -> [WebhookDelivery] {
        guard let target = configuration.eventbriteWebhook else { return [] }
        let endpoint = target.unixSocket == nil ? "http://\(target.host):\(target.port)\(target.path)" : "http://localhost\(target.path)"
        let body: JSON = [
            "api_url": .string("\(apiBase)/eventbrite/v3/orders/\(orderID)/"),
            "config": ["action": .string(action), "endpoint_url": .string(endpoint), "user_id": "1000000001", "webhook_id": "7000001"],
        ]
        return plan(.eventbrite, type: action, orderID: orderID, target: target, body: body, now: now).map { [$0] } ?? []
    }

    /// `types` are webhook types; `ticket.registered:<ticket id>` names the ticket of that delivery.
    private mutating func lumaDeliveries(_ guestID: String, types: [String], now: Double) -> [WebhookDelivery] {
        guard let target = configuration.lumaWebhook, let guest = luma.guests[guestID], let event = luma.events[guest.eventID]
        else { return [] }
        return types.compactMap { spec in
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            let body = LumaRendering.webhook(type: parts[0], guest: guest, event: event, ticketID: parts.count > 1 ? parts[1] : nil)
            return plan(.luma, type: parts[0], orderID: guestID, target: target, body: body, now: now)
        }
    }

    /// Records one delivery attempt (from `WebhookDispatcher`).
    public mutating func recordAttempt(_ deliveryID: String, copy: Int, attempt: Int, status: Int?, error: String?, now: Double) {
        guard let index = webhookIndex[deliveryID] else { return }
        webhooks[index].attempts.append(
            WebhookRecord.Attempt(copy: copy, attempt: attempt, time: now, status: status, error: error))
    }

    // MARK: Truth

    public func salesJSON(platform: Platform?) -> JSON {
        ["sales": .array(sales.filter { platform == nil || $0.platform == platform }.map { $0.json(in: self) })]
    }

    public func requestsJSON(onlyRateLimited: Bool, platform: Platform?) -> JSON {
        let list = requests.filter { (!onlyRateLimited || $0.rateLimited) && (platform == nil || $0.platform == platform) }
        return [onlyRateLimited ? "rate_limited" : "requests": .array(list.map(\.json))]
    }

    public var capacityChangesJSON: JSON {
        [
            "capacity_changes": .array(
                capacityChanges.map {
                    [
                        "platform": .string($0.platform.rawValue), "event_id": .string($0.eventID), "old": .optional($0.old),
                        "new": .optional($0.new), "time": .string(Timestamps.milliseconds($0.time)), "call": .string($0.call),
                        "sold": .int($0.sold), "closed": .bool($0.closed),
                    ]
                })
        ]
    }

    public var webhooksJSON: JSON {
        let sent = webhooks.filter { !$0.dropped }
        return [
            "deliveries": .array(webhooks.map(\.json)),
            "counts": [
                "planned": .int(webhooks.count), "dropped": .int(webhooks.count - sent.count),
                "duplicated": .int(sent.filter(\.duplicated).count),
                "delivered": .int(sent.filter { $0.attempts.contains { ($0.status ?? 0) / 100 == 2 } }.count),
                "attempts": .int(webhooks.reduce(0) { $0 + $1.attempts.count }),
            ],
        ]
    }

    /// `GET /control/webhooks/outcomes`: every planned delivery with the order it is about and whether
    /// the receiver acknowledged it (answered 2xx to any attempt of any copy), optionally one platform's.
    public func webhookOutcomesJSON(platform: Platform?) -> JSON {
        ["outcomes": .array(webhooks.filter { platform == nil || $0.platform == platform }.map(\.outcomeJSON))]
    }

    /// Tickets currently held, per platform.
    public func sold(_ platform: Platform) -> Int {
        sales.filter { $0.platform == platform }.reduce(0) { $0 + $1.state(in: self).held }
    }

    /// Capacities each platform enforces now, by event (null = unlimited).
    func capacities(_ platform: Platform) -> JSON {
        switch platform {
        case .eventbrite:
            return .object(eventbrite.events.keys.reduce(into: [:]) { $0[$1] = .optional(eventbrite.enforcedCapacity($1)) })
        case .luma:
            return .object(luma.events.keys.reduce(into: [:]) { $0[$1] = .optional(luma.enforcedCapacity($1)) })
        case .meetup:
            return .object(
                meetup.events.reduce(into: [:]) { out, pair in
                    out[pair.key] = pair.value.rsvpsClosed ? 0 : (pair.value.rsvpLimit == 0 ? .null : .int(pair.value.rsvpLimit))
                })
        }
    }

    public var summaryJSON: JSON {
        var out: [String: JSON] = [:]
        for platform in Platform.allCases {
            let mine = requests.filter { $0.platform == platform }
            out[platform.rawValue] = [
                "sold_tickets": .int(sold(platform)), "sales": .int(sales.filter { $0.platform == platform }.count),
                "refused": .int(refused[platform] ?? 0), "requests": .int(mine.count),
                "rate_limited": .int(mine.filter(\.rateLimited).count), "capacity": capacities(platform),
            ]
        }
        return .object(out)
    }
}
