import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// The running simulator: `SimulatorState` behind a lock, the webhook dispatcher, the demand runner,
/// and the control API. The HTTP listeners call `handleAPI` and `handleControl`.
public final class Simulator: Sendable {
    private let state: NIOLockedValueBox<SimulatorState>
    private let demand = NIOLockedValueBox(DemandStatus())
    private let clock: @Sendable () -> Double
    private let dispatcher: WebhookDispatcher

    /// Counters of the current (or last) demand run.
    struct DemandStatus: Sendable {
        var task: Task<Void, Never>?
        var running = false
        var attempted = 0
        var sold = 0
        var waitlisted = 0
        var refused = 0
        var cancelled = 0
        var runs = 0

        var json: JSON {
            [
                "running": .bool(running), "attempted": .int(attempted), "sold": .int(sold),
                "waitlisted": .int(waitlisted), "refused": .int(refused), "cancelled": .int(cancelled),
            ]
        }
    }

    /// - Parameters:
    ///   - clock: Unix time in seconds (tests may pass their own).
    public init(
        configuration: SimulatorConfiguration = SimulatorConfiguration(), seed: UInt64 = 1,
        group: any EventLoopGroup, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        let state = NIOLockedValueBox(SimulatorState(configuration: configuration, seed: seed))
        self.state = state
        self.clock = clock
        dispatcher = WebhookDispatcher(
            client: LoopbackHTTPClient(group: group),
            settings: {
                state.withLockedValue {
                    ($0.configuration.webhookRetries, $0.configuration.webhookRetryBackoffMs, $0.configuration.webhookTimeoutMs)
                }
            },
            record: { id, copy, attempt, status, error in
                state.withLockedValue { $0.recordAttempt(id, copy: copy, attempt: attempt, status: status, error: error, now: clock()) }
            })
        dispatcher.start(workers: configuration.webhookMaxConcurrency)
    }

    /// Stops the demand runner and the webhook workers.
    public func shutdown() {
        demand.withLockedValue { $0.task?.cancel() }
        dispatcher.stop()
    }

    /// Sets the API base URL once the API listener is bound.
    public func setAPIBase(_ base: String) { state.withLockedValue { $0.apiBase = base } }

    /// A copy of the state (tests).
    public var snapshot: SimulatorState { state.withLockedValue { $0 } }

    public func handleAPI(_ request: SimRequest) -> SimResponse {
        let now = clock()
        let (response, deliveries) = state.withLockedValue { $0.handleAPI(request, now: now) }
        dispatcher.submit(deliveries)
        return response
    }

    /// Places one sale (the control API and the demand runner share this path).
    public func placeSale(platform: Platform, eventID: String, quantity: Int, buyer: Buyer? = nil) -> JSON {
        let now = clock()
        let (result, deliveries) = state.withLockedValue {
            $0.placeSale(platform: platform, eventID: eventID, quantity: quantity, buyer: buyer, now: now)
        }
        dispatcher.submit(deliveries)
        return result
    }

    private func cancel(platform: Platform?, saleID: String, refund: Bool) -> Result<JSON, LumaError> {
        let now = clock()
        let (result, deliveries) = state.withLockedValue {
            $0.cancelSale(platform: platform, saleID: saleID, refund: refund, now: now)
        }
        dispatcher.submit(deliveries)
        return result
    }

    // MARK: Control API

    private static func failure(_ status: Int, _ message: String) -> SimResponse {
        .json(status, ["error": .string(message)])
    }

    public func handleControl(_ request: SimRequest) -> SimResponse {
        let platform = request.query["platform"].flatMap(Platform.init(rawValue:))
        switch (request.method, request.path) {
        case ("GET", "/control/health"): return .json(200, ["ok": true])
        case ("POST", "/control/events"):
            guard let body = request.json else { return Self.failure(400, "expected a JSON body") }
            let now = clock()
            switch state.withLockedValue({ $0.createEvent(body, now: now) }) {
            case .success(let json): return .json(201, json)
            case .failure(let error): return Self.failure(400, error.description)
            }
        case ("POST", "/control/credentials"):
            guard let body = request.json else { return Self.failure(400, "expected a JSON body") }
            return reconfigure(["credentials": body])
        case ("POST", "/control/config"):
            guard let body = request.json else { return Self.failure(400, "expected a JSON body") }
            return reconfigure(body)
        case ("GET", "/control/config"):
            return .json(200, state.withLockedValue { $0.configuration.json })
        case ("POST", "/control/sales"):
            guard let body = request.json, let platform = body["platform"]?.stringValue.flatMap(Platform.init(rawValue:)),
                let eventID = body["event_id"]?.stringValue, let quantity = body["quantity"]?.intValue
            else { return Self.failure(400, "expected {\"platform\",\"event_id\",\"quantity\",\"buyer\"?}") }
            let buyer = body["buyer"].flatMap { json -> Buyer? in
                guard let name = json["name"]?.stringValue else { return nil }
                return Buyer(name: name, email: json["email"]?.stringValue ?? "\(name.lowercased().filter(\.isLetter))@example.test")
            }
            let result = placeSale(platform: platform, eventID: eventID, quantity: quantity, buyer: buyer)
            return .json(result["outcome"] == "refused" ? 409 : 201, result)
        case ("GET", "/control/sales"):
            return .json(200, state.withLockedValue { $0.salesJSON(platform: platform) })
        case ("POST", "/control/cancellations"):
            guard let body = request.json, let saleID = body["sale_id"]?.stringValue else {
                return Self.failure(400, "expected {\"platform\"?,\"sale_id\",\"refund\"?}")
            }
            let target = body["platform"]?.stringValue.flatMap(Platform.init(rawValue:))
            switch cancel(platform: target, saleID: saleID, refund: body["refund"]?.boolValue ?? true) {
            case .success(let sale): return .json(200, ["sale": sale])
            case .failure(let error): return Self.failure(error.status, error.message)
            }
        case ("POST", "/control/meetup/guests"):
            guard let body = request.json, let rsvpID = body["rsvp_id"]?.stringValue,
                let guests = body["guests_count"]?.intValue
            else { return Self.failure(400, "expected {\"rsvp_id\",\"guests_count\"}") }
            let now = clock()
            switch state.withLockedValue({ $0.changeMeetupGuests(rsvpID: rsvpID, guestsCount: guests, now: now) }) {
            case .success(let json): return .json(200, json)
            case .failure(let error): return Self.failure(error.status, error.message)
            }
        case ("POST", "/control/meetup/mutation-errors"):
            guard let body = request.json else { return Self.failure(400, "expected a JSON body") }
            switch state.withLockedValue({ $0.injectMeetupMutationErrors(body) }) {
            case .success(let json): return .json(200, json)
            case .failure(let error): return Self.failure(error.status, error.message)
            }
        case ("POST", "/control/demand/start"):
            guard let body = request.json else { return Self.failure(400, "expected a JSON body") }
            do {
                return startDemand(try DemandSpec.parse(body))
            } catch {
                return Self.failure(400, "\(error)")
            }
        case ("POST", "/control/demand/stop"):
            let status = demand.withLockedValue { status -> JSON in
                status.task?.cancel()
                status.task = nil
                status.running = false
                return status.json
            }
            return .json(200, status)
        case ("GET", "/control/demand"):
            return .json(200, demand.withLockedValue { $0.json })
        case ("GET", "/control/capacity-changes"):
            return .json(200, state.withLockedValue { $0.capacityChangesJSON })
        case ("GET", "/control/requests"):
            return .json(200, state.withLockedValue { $0.requestsJSON(onlyRateLimited: false, platform: platform) })
        case ("GET", "/control/rate-limited"):
            return .json(200, state.withLockedValue { $0.requestsJSON(onlyRateLimited: true, platform: platform) })
        case ("GET", "/control/webhooks"):
            return .json(200, state.withLockedValue { $0.webhooksJSON })
        case ("GET", "/control/webhooks/outcomes"):
            return .json(200, state.withLockedValue { $0.webhookOutcomesJSON(platform: platform) })
        case ("GET", "/control/summary"):
            let demandJSON = demand.withLockedValue { $0.json }
            guard case .object(var summary) = state.withLockedValue({ $0.summaryJSON }) else { return .json(200, [:]) }
            summary["demand"] = demandJSON
            return .json(200, .object(summary))
        case ("POST", "/control/reset"):
            demand.withLockedValue { status in
                status.task?.cancel()
                status = DemandStatus(runs: status.runs)
            }
            state.withLockedValue { $0.reset() }
            return .json(200, ["reset": true])
        default:
            return Self.failure(404, "no control endpoint \(request.method) \(request.path)")
        }
    }

    private func reconfigure(_ patch: JSON) -> SimResponse {
        do {
            let configuration = try state.withLockedValue { state -> SimulatorConfiguration in
                try state.reconfigure(patch)
                return state.configuration
            }
            return .json(200, configuration.json)
        } catch {
            return Self.failure(400, "\(error)")
        }
    }

    // MARK: Demand

    private func startDemand(_ spec: DemandSpec) -> SimResponse {
        let seed = state.withLockedValue { $0.seed }
        return demand.withLockedValue { status -> SimResponse in
            guard !status.running else { return Self.failure(409, "demand is already running; POST /control/demand/stop first") }
            status = DemandStatus(running: true, runs: status.runs + 1)
            let schedule = DemandSchedule(spec: spec, seed: seed &+ UInt64(status.runs))
            status.task = Task { [weak self] in await self?.runDemand(schedule) }
            return .json(202, status.json)
        }
    }

    private func runDemand(_ schedule: DemandSchedule) async {
        var schedule = schedule
        var pendingCancels: [(atMs: Double, saleID: String)] = []
        var nextArrival = schedule.next()
        let start = ContinuousClock.now
        while !Task.isCancelled {
            let nextCancel = pendingCancels.min { $0.atMs < $1.atMs }
            guard nextArrival != nil || nextCancel != nil else { break }
            let dueMs = min(nextArrival?.atMs ?? .infinity, nextCancel?.atMs ?? .infinity)
            let elapsedMs = Double((ContinuousClock.now - start).components.attoseconds) / 1e15
                + Double((ContinuousClock.now - start).components.seconds) * 1000
            if dueMs > elapsedMs {
                do { try await Task.sleep(for: .milliseconds(Int64((dueMs - elapsedMs).rounded(.up)))) } catch { break }
            }
            if let cancel = nextCancel, cancel.atMs <= (nextArrival?.atMs ?? .infinity) {
                pendingCancels.removeAll { $0.saleID == cancel.saleID }
                if case .success = self.cancel(platform: nil, saleID: cancel.saleID, refund: true) {
                    demand.withLockedValue { $0.cancelled += 1 }
                }
                continue
            }
            guard let arrival = nextArrival else { continue }
            nextArrival = schedule.next()
            let result = placeSale(platform: arrival.platform, eventID: arrival.eventID, quantity: arrival.quantity)
            demand.withLockedValue { status in
                status.attempted += 1
                switch result["outcome"]?.stringValue {
                case "sold": status.sold += 1
                case "waitlisted": status.waitlisted += 1
                default: status.refused += 1
                }
            }
            if result["outcome"] == "sold", let after = arrival.cancelAfterMs, let id = result["sale"]?["id"]?.stringValue {
                pendingCancels.append((arrival.atMs + after, id))
            }
        }
        demand.withLockedValue { $0.running = false }
    }
}
