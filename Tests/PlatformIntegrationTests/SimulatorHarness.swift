import CurlBridge
import Foundation
import PlatformClients
import PlatformSimulator
import Synchronization
import Testing
import TrafficPoliceCore

/// The platform simulator started in-process on 127.0.0.1 port 0 (API and control listeners), with
/// the three platform clients pointed at it through one `CurlClient`. The simulator's clock is the
/// wall clock plus an offset the tests can move forward (`advance`), so lags and windows pass at once.
final class SimulatorHarness: Sendable {
    let local: LocalSimulator
    let curl: CurlClient
    private let clock: AdjustableClock

    private init() async throws {
        let clock = AdjustableClock()
        local = try await LocalSimulator(seed: 7) { clock.now.timeIntervalSince1970 }
        self.clock = clock
        curl = CurlClient()
    }

    private func stop() async {
        await curl.shutdown()
        await local.stop()
    }

    /// Runs `body` with a fresh simulator and stops everything afterwards, whatever happens.
    static func with(_ body: (SimulatorHarness) async throws -> Void) async throws {
        let harness = try await SimulatorHarness()
        do {
            try await body(harness)
            await harness.stop()
        } catch {
            await harness.stop()
            throw error
        }
    }

    /// The simulator's time now.
    var now: Date { clock.now }

    /// Moves the simulator's clock forward.
    func advance(seconds: Double) { clock.advance(seconds: seconds) }

    // MARK: Clients

    /// An endpoint on the simulator for `platform`, with the simulator's default credential unless told.
    func endpoint(_ platform: TrafficPoliceCore.Platform, credential: String? = nil) -> PlatformEndpoint {
        let (path, defaultCredential) =
            switch platform {
            case .eventbrite: ("/eventbrite/v3", "eb-token")
            case .luma: ("/luma", "luma-key")
            case .meetup: ("/meetup/gql-ext", "meetup-token")
            }
        return PlatformEndpoint(
            platform: platform, credential: PlatformCredential(credential ?? defaultCredential),
            baseURL: local.api.baseURL + path, timeout: .seconds(10))
    }

    func eventbrite(credential: String? = nil) -> EventbriteClient {
        EventbriteClient(client: curl, endpoint: endpoint(.eventbrite, credential: credential))
    }

    func luma(credential: String? = nil) -> LumaClient {
        LumaClient(client: curl, endpoint: endpoint(.luma, credential: credential))
    }

    func meetup(credential: String? = nil) -> MeetupClient {
        MeetupClient(client: curl, endpoint: endpoint(.meetup, credential: credential))
    }

    // MARK: Control API

    /// Sends a control request; returns the status and the JSON answer.
    @discardableResult
    func control(_ method: String, _ path: String, _ body: JSON? = nil) async throws -> (status: Int, json: JSON) {
        let request = HTTPRequest(
            method: method, url: local.control.baseURL + path, headers: [(name: "Content-Type", value: "application/json")],
            body: body?.serialized())
        let response = try await curl.execute(request)
        return (response.status, JSON.parse(response.body) ?? .null)
    }

    /// Creates an event through the control API; returns the answer (ids, ticket class or type).
    @discardableResult
    func createEvent(_ platform: String, id: String, capacity: Int?, extra: [String: JSON] = [:]) async throws -> JSON {
        var body: [String: JSON] = ["platform": .string(platform), "id": .string(id), "capacity": capacity.map(JSON.int) ?? .null]
        body.merge(extra) { $1 }
        let (status, json) = try await control("POST", "/control/events", .object(body))
        try #require(status == 201, "creating \(platform) event \(id): \(json.text)")
        return json
    }

    /// One sale through the control API: the answer (`outcome`, `sale`) and its status (201 or 409).
    func sell(_ platform: String, _ eventID: String, quantity: Int = 1) async throws -> (status: Int, json: JSON) {
        try await control(
            "POST", "/control/sales",
            ["platform": .string(platform), "event_id": .string(eventID), "quantity": .int(quantity)])
    }

    /// A sale that must succeed; returns the platform's id (Eventbrite order, Luma guest, Meetup RSVP).
    func sold(_ platform: String, _ eventID: String, quantity: Int = 1, waitlisted: Bool = false) async throws -> String {
        let (status, json) = try await sell(platform, eventID, quantity: quantity)
        try #require(status == 201, "sale on \(platform) \(eventID): \(json.text)")
        #expect(json["outcome"]?.stringValue == (waitlisted ? "waitlisted" : "sold"))
        let key = ["eventbrite": "order_id", "luma": "guest_id", "meetup": "rsvp_id"][platform] ?? ""
        return try #require(json["sale"]?[platform]?[key]?.stringValue)
    }

    /// Cancels a sale by the platform's id (refunded unless `refund` is false).
    func cancel(_ platform: String, _ platformID: String, refund: Bool = true) async throws {
        let (status, json) = try await control(
            "POST", "/control/cancellations",
            ["platform": .string(platform), "sale_id": .string(platformID), "refund": .bool(refund)])
        try #require(status == 200, "cancelling \(platformID): \(json.text)")
    }

    /// Applies a configuration patch.
    func configure(_ patch: JSON) async throws {
        let (status, json) = try await control("POST", "/control/config", patch)
        try #require(status == 200, "config: \(json.text)")
    }

    /// The requests the simulator logged for `platform`.
    func requests(_ platform: String) async throws -> [JSON] {
        try await control("GET", "/control/requests?platform=\(platform)").json["requests"]?.arrayValue ?? []
    }
}

/// The wall clock plus an offset that only grows.
final class AdjustableClock: Sendable {
    private let offset = Mutex(0.0)

    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    func advance(seconds: Double) { offset.withLock { $0 += seconds } }
}

/// Runs `call` and returns the `PlatformCallError` it threw (nil when it succeeded or threw something else).
func callError<T>(_ call: () async throws -> T) async -> PlatformCallError? {
    do {
        _ = try await call()
        return nil
    } catch {
        return error as? PlatformCallError
    }
}
