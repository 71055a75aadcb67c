import Foundation
import PlatformSimulator

/// The platform simulator started in-process on 127.0.0.1 (port 0) for these tests: its API over
/// real sockets (what the daemon's clients call), its control API called directly. Kept in a file of
/// its own: the simulator's `Platform` and `WebhookDelivery` would shadow the daemon's elsewhere.
final class TestSimulator: Sendable {
    let local: LocalSimulator

    private init(seed: UInt64) async throws {
        local = try await LocalSimulator(seed: seed)
    }

    /// The API root, e.g. `http://127.0.0.1:41000`.
    var api: String { local.api.baseURL }
    var eventbriteBase: String { api + "/eventbrite/v3" }
    var lumaBase: String { api + "/luma" }
    var meetupBase: String { api + "/meetup/gql-ext" }

    /// Calls the control API; the status and the answer's JSON object.
    @discardableResult
    func answer(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> ControlAnswer {
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let response = local.simulator.handleControl(
            SimRequest(method: method, uri: path, headers: [("Content-Type", "application/json")], body: bytes))
        let json = response.body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(response.body))
        return ControlAnswer(status: response.status, json: json as? [String: Any] ?? [:])
    }

    /// Calls the control API; the answer's JSON object, or an error for a status other than 2xx and 409.
    @discardableResult
    func control(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        let answer = try await answer(method, path, body)
        guard (200..<300).contains(answer.status) || answer.status == 409 else {
            throw HarnessError("\(method) \(path): \(answer.status) \(answer.json)")
        }
        return answer.json
    }

    func stop() async {
        await local.stop()
    }

    static func with<T>(seed: UInt64 = 7, _ body: (TestSimulator) async throws -> T) async throws -> T {
        let simulator = try await TestSimulator(seed: seed)
        do {
            let result = try await body(simulator)
            await simulator.stop()
            return result
        } catch {
            await simulator.stop()
            throw error
        }
    }
}

extension TestSimulator {
    /// Luma's base URL for the daemon's client.
    var lumaBaseURL: String { lumaBase }

    /// Sells `quantity` on the Luma event; the guest id, the sale id and the outcome (`sold` or `waitlisted`).
    func lumaSale(event: String, quantity: Int) async throws -> (guestID: String, saleID: String, outcome: String) {
        let answer = try await control("POST", "/control/sales", ["platform": "luma", "event_id": event, "quantity": quantity])
        let sale = answer["sale"] as? [String: Any]
        let luma = sale?["luma"] as? [String: Any]
        guard let guestID = luma?["guest_id"] as? String, let saleID = sale?["id"] as? String,
            let outcome = answer["outcome"] as? String
        else { throw HarnessError("unexpected sale answer \(answer)") }
        return (guestID, saleID, outcome)
    }

    /// The Luma requests the simulator answered 429.
    func lumaRateLimited() async throws -> Int {
        (try await control("GET", "/control/rate-limited?platform=luma")["rate_limited"] as? [Any])?.count ?? -1
    }

    /// The Luma API requests the simulator served.
    func lumaRequests() async throws -> [[String: Any]] {
        (try await control("GET", "/control/requests?platform=luma")["requests"] as? [[String: Any]]) ?? []
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
