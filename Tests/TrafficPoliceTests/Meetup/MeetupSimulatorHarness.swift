import CurlBridge
import Foundation
import NIOPosix
import PlatformSimulator

/// The platform simulator started in-process on 127.0.0.1 port 0 with a Meetup token of its own,
/// driven through its control API over real sockets (kept in its own file: the simulator's
/// `Platform` and `WebhookDelivery` would shadow the daemon's).
final class MeetupSimulator: Sendable {
    let group: MultiThreadedEventLoopGroup
    let simulator: Simulator
    let api: SimulatorHTTPServer
    let control: SimulatorHTTPServer
    let curl: CurlClient
    /// A token no other test shares, so each test has its own throttle bucket and points.
    let token = "meetup-\(UUID().uuidString.lowercased())"

    private init() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        simulator = Simulator(seed: 7, group: group)
        (api, control) = try await PlatformSimulatorService.start(
            apiPort: 0, controlPort: 0, simulator: simulator, group: group)
        curl = CurlClient()
    }

    /// The daemon's `[platforms.meetup] base_url` for this simulator.
    var graphQLURL: String { "http://127.0.0.1:\(api.port)/meetup/gql-ext" }

    static func with<T>(_ body: (MeetupSimulator) async throws -> T) async throws -> T {
        let simulator = try await MeetupSimulator()
        do {
            _ = try await simulator.call("POST", "/control/credentials", ["meetup": [simulator.token]])
            let result = try await body(simulator)
            await simulator.stop()
            return result
        } catch {
            await simulator.stop()
            throw error
        }
    }

    private func stop() async {
        await curl.shutdown()
        await api.close()
        await control.close()
        simulator.shutdown()
        try? await group.shutdownGracefully()
    }

    /// One control call; the answer's JSON object.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> ControlAnswer {
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        let response = try await curl.execute(
            HTTPRequest(
                method: method, url: "http://127.0.0.1:\(control.port)\(path)",
                headers: bytes == nil ? [] : [(name: "Content-Type", value: "application/json")], body: bytes))
        let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return ControlAnswer(status: response.status, json: json ?? [:])
    }

    /// Sets Meetup's points per rolling window.
    func configure(pointsPerWindow: Int, windowSeconds: Double) async throws {
        let answer = try await call(
            "POST", "/control/config",
            ["meetup": ["points_per_window": pointsPerWindow, "window_seconds": windowSeconds]])
        guard answer.status == 200 else { throw HarnessError("config refused: \(answer.json)") }
    }

    /// A Meetup event with an RSVP limit (1 + guests per YES RSVP); its id.
    func createEvent(capacity: Int? = nil) async throws -> String {
        let id = String(UInt32.random(in: 100_000_000...999_999_999))
        var body: [String: Any] = ["platform": "meetup", "id": id]
        if let capacity { body["capacity"] = capacity }
        let answer = try await call("POST", "/control/events", body)
        guard answer.status == 201 else { throw HarnessError("event refused: \(answer.json)") }
        return id
    }

    /// A member RSVPs for 1 + (quantity − 1) guests: YES, or WAITLIST when full. The RSVP id and status.
    func rsvp(_ eventID: String, quantity: Int = 1) async throws -> (id: String, status: String) {
        let answer = try await call(
            "POST", "/control/sales", ["platform": "meetup", "event_id": eventID, "quantity": quantity])
        guard answer.status == 201, let sale = answer.json["sale"] as? [String: Any],
            let meetup = sale["meetup"] as? [String: Any], let id = meetup["rsvp_id"] as? String
        else { throw HarnessError("RSVP refused: \(answer.json)") }
        return (id, meetup["rsvp_status"] as? String ?? "?")
    }

    /// The member changes the RSVP to NO.
    func cancel(rsvpID: String) async throws {
        let answer = try await call("POST", "/control/cancellations", ["platform": "meetup", "sale_id": rsvpID])
        guard answer.status == 200 else { throw HarnessError("cancellation refused: \(answer.json)") }
    }

    /// Meetup API requests the simulator served (rate-limited ones included).
    func requests() async throws -> Int {
        (try await call("GET", "/control/requests?platform=meetup").json["requests"] as? [Any])?.count ?? 0
    }

    /// Meetup API requests the simulator refused as rate-limited.
    func rateLimited() async throws -> Int {
        (try await call("GET", "/control/rate-limited?platform=meetup").json["rate_limited"] as? [Any])?.count ?? 0
    }
}

/// A control answer: status and JSON object (tests only read it on the task that asked).
struct ControlAnswer: @unchecked Sendable {
    var status: Int
    var json: [String: Any]
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
