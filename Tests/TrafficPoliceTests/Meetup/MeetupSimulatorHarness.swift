import CurlBridge
import Foundation

/// The in-process simulator (``TestSimulator``) with a Meetup token of its own and Meetup helpers.
final class MeetupSimulator: Sendable {
    let sim: TestSimulator
    /// The libcurl client the tests' gateways use (shut down by `with`).
    let curl = CurlClient()
    /// A token no other test shares, so each test has its own throttle bucket and points.
    let token = "meetup-\(UUID().uuidString.lowercased())"

    private init(_ sim: TestSimulator) { self.sim = sim }

    /// The daemon's `[platforms.meetup] base_url` for this simulator.
    var graphQLURL: String { sim.meetupBase }

    static func with<T>(_ body: (MeetupSimulator) async throws -> T) async throws -> T {
        try await TestSimulator.with { sim in
            let meetup = MeetupSimulator(sim)
            do {
                try await meetup.call("POST", "/control/credentials", ["meetup": [meetup.token]])
                let result = try await body(meetup)
                await meetup.curl.shutdown()
                return result
            } catch {
                await meetup.curl.shutdown()
                throw error
            }
        }
    }

    /// One control call; its status and JSON object.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> ControlAnswer {
        try await sim.answer(method, path, body)
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
