import NIOConcurrencyHelpers
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import PlatformSimulator

/// The simulator started in-process on 127.0.0.1 port 0, spoken to over real sockets.
final class RunningSimulator: Sendable {
    let local: LocalSimulator
    let client: LoopbackHTTPClient
    var group: MultiThreadedEventLoopGroup { local.group }
    var api: SimulatorHTTPServer { local.api }
    var control: SimulatorHTTPServer { local.control }

    init() async throws {
        local = try await LocalSimulator(seed: 3, threads: 2)
        client = LoopbackHTTPClient(group: local.group)
    }

    func stop() async { await local.stop() }

    func call(_ method: String, _ path: String, port: Int, headers: [(String, String)] = [], json: JSON? = nil) async throws -> SimResponse {
        try await client.send(
            .tcp(host: "127.0.0.1", port: port), method: method, path: path, headers: headers,
            body: json?.serialized() ?? [], timeout: .seconds(5))
    }

    func control(_ method: String, _ path: String, _ json: JSON? = nil) async throws -> SimResponse {
        try await call(method, path, port: control.port, json: json)
    }

    func eventbrite(_ method: String, _ path: String, token: String? = "eb-token", json: JSON? = nil) async throws -> SimResponse {
        try await call(method, "/eventbrite/v3" + path, port: api.port, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [], json: json)
    }

    func meetup(_ query: String, variables: JSON = [:]) async throws -> SimResponse {
        try await call(
            "POST", "/meetup/gql-ext", port: api.port, headers: [("Authorization", "Bearer meetup-token")],
            json: ["query": .string(query), "variables": variables])
    }

    static func with(_ body: (RunningSimulator) async throws -> Void) async throws {
        let running = try await RunningSimulator()
        do {
            try await body(running)
            await running.stop()
        } catch {
            await running.stop()
            throw error
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct ListenerTests {
    @Test func authFailuresHaveEachPlatformsShape() async throws {
        try await RunningSimulator.with { sim in
            let none = try await sim.eventbrite("GET", "/orders/1/", token: nil)
            #expect(none.status == 401 && none.json?["error"] == "NO_AUTH" && none.json?["status_code"] == 401)
            let bad = try await sim.eventbrite("GET", "/orders/1/", token: "nope")
            #expect(bad.status == 401 && bad.json?["error"] == "INVALID_AUTH")
            let luma = try await sim.call("GET", "/luma/v1/events/get?event_id=evt-x", port: sim.api.port, headers: [("x-luma-api-key", "bad")])
            #expect(luma.status == 401 && luma.json?["message"] != nil)
            let meetup = try await sim.call("POST", "/meetup/gql-ext", port: sim.api.port, json: ["query": "{ event(id: 1) { id } }"])
            #expect(meetup.status == 401)
            let missing = try await sim.eventbrite("GET", "/orders/1/")
            #expect(missing.status == 404 && missing.json?["error"] == "NOT_FOUND")
        }
    }

    @Test func eventbriteOrderAttendeesCapacityAndRateLimit() async throws {
        try await RunningSimulator.with { sim in
            _ = try await sim.control("POST", "/control/events", ["platform": "eventbrite", "id": "e1", "capacity": 10, "ticket_class_id": "tc1"])
            let sale = try await sim.control("POST", "/control/sales", ["platform": "eventbrite", "event_id": "e1", "quantity": 3])
            let orderID = try #require(sale.json?["sale"]?["eventbrite"]?["order_id"]?.stringValue)
            let order = try await sim.eventbrite("GET", "/orders/\(orderID)/?expand=attendees")
            #expect(order.status == 200 && order.json?["attendees"]?.arrayValue?.count == 3)
            #expect(order.json?["status"] == "placed" && order.json?["event_id"] == "e1")
            let attendees = try await sim.eventbrite("GET", "/events/e1/attendees/?status=attending&changed_since=2000-01-01T00:00:00Z")
            #expect(attendees.json?["pagination"]?["object_count"] == 3)
            // Capacity write, then a sale beyond it is refused.
            let write = try await sim.eventbrite("POST", "/events/e1/ticket_classes/tc1/", json: ["ticket_class": ["capacity": 4]])
            #expect(write.status == 200 && write.json?["capacity"] == 4 && write.json?["quantity_sold"] == 3)
            let refused = try await sim.control("POST", "/control/sales", ["platform": "eventbrite", "event_id": "e1", "quantity": 2])
            #expect(refused.status == 409 && refused.json?["reason"] == "sold_out")
            let changes = try await sim.control("GET", "/control/capacity-changes")
            #expect(changes.json?["capacity_changes"]?.arrayValue?.first?["new"] == 4)
            // Lowered budget → 429 HIT_RATE_LIMIT.
            _ = try await sim.control("POST", "/control/config", ["eventbrite": ["calls_per_window": 1]])
            _ = try await sim.eventbrite("GET", "/events/e1/ticket_classes/", token: "eb-token")
            let limited = try await sim.eventbrite("GET", "/events/e1/ticket_classes/")
            #expect(limited.status == 429 && limited.json?["error"] == "HIT_RATE_LIMIT")
            let log = try await sim.control("GET", "/control/rate-limited")
            #expect((log.json?["rate_limited"]?.arrayValue?.count ?? 0) >= 1)
        }
    }

    @Test func lumaGuestsPagingAndRateLimitHeaders() async throws {
        try await RunningSimulator.with { sim in
            _ = try await sim.control("POST", "/control/events", ["platform": "luma", "id": "evt-1", "capacity": 3])
            for _ in 0..<4 { _ = try await sim.control("POST", "/control/sales", ["platform": "luma", "event_id": "evt-1", "quantity": 1]) }
            let key = [("x-luma-api-key", "luma-key")]
            let first = try await sim.call("GET", "/luma/v1/events/guests/list?event_id=evt-1&pagination_limit=3", port: sim.api.port, headers: key)
            #expect(first.json?["has_more"] == true && first.header("X-RateLimit-Remaining") == "199")
            let cursor = try #require(first.json?["next_cursor"]?.stringValue)
            let second = try await sim.call("GET", "/luma/v1/events/guests/list?event_id=evt-1&pagination_limit=3&pagination_cursor=\(cursor)", port: sim.api.port, headers: key)
            #expect(second.json?["entries"]?.arrayValue?.first?["approval_status"] == "waitlist")
            #expect(second.json?["has_more"] == false)
            _ = try await sim.control("POST", "/control/config", ["luma": ["requests_per_window": 2, "block_seconds": 60]])
            let limited = try await sim.call("GET", "/luma/v1/events/get?event_id=evt-1", port: sim.api.port, headers: key)
            #expect(limited.status == 429 && limited.header("Retry-After") == "60")
        }
    }

    @Test func meetupPagingAndRateLimited() async throws {
        try await RunningSimulator.with { sim in
            _ = try await sim.control("POST", "/control/events", ["platform": "meetup", "id": "m1", "capacity": 0])
            for _ in 0..<3 { _ = try await sim.control("POST", "/control/sales", ["platform": "meetup", "event_id": "m1", "quantity": 2]) }
            let query = "query($id: ID!, $after: String) { event(id: $id) { rsvps(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id guestsCount } } } } }"
            let page1 = try await sim.meetup(query, variables: ["id": "m1", "after": .null])
            let end = try #require(page1.json?["data"]?["event"]?["rsvps"]?["pageInfo"]?["endCursor"]?.stringValue)
            let page2 = try await sim.meetup(query, variables: ["id": "m1", "after": .string(end)])
            #expect(page2.json?["data"]?["event"]?["rsvps"]?["edges"]?.arrayValue?.count == 1)
            #expect(page2.json?["data"]?["event"]?["rsvps"]?["pageInfo"]?["hasNextPage"] == false)
            _ = try await sim.control("POST", "/control/config", ["meetup": ["points_per_window": 5]])
            let limited = try await sim.meetup(query, variables: ["id": "m1"])
            let error = limited.json?["errors"]?.arrayValue?.first
            #expect(limited.status == 200 && error?["extensions"]?["code"] == "RATE_LIMITED")
            #expect(error?["extensions"]?["consumedPoints"] == 5 && error?["path"] == ["event"])
            #expect(limited.json?["data"] == .null)
        }
    }

    @Test func webhooksReachAUnixSocketWithDuplicatesAndDropsCounted() async throws {
        try await RunningSimulator.with { sim in
            let path = "/tmp/platform-sim-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            let received = NIOLockedValueBox<[(String, [UInt8])]>([])
            let receiver = try await ServerBootstrap(group: sim.group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(SimulatorHTTPHandler { request in
                            received.withLockedValue { $0.append((request.path, request.body)) }
                            return SimResponse(status: 202)
                        })
                    }
                }
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try await sim.control("POST", "/control/config", [
                "eventbrite": ["webhook": ["unix_socket": .string(path), "path": "/webhooks/eventbrite"]],
                "webhooks": ["duplicate_probability": 0.5, "drop_probability": 0.3],
            ])
            _ = try await sim.control("POST", "/control/events", ["platform": "eventbrite", "id": "e1", "capacity": nil])
            for _ in 0..<20 { _ = try await sim.control("POST", "/control/sales", ["platform": "eventbrite", "event_id": "e1", "quantity": 1]) }
            var counts: JSON = [:]
            for _ in 0..<100 {
                counts = try await sim.control("GET", "/control/webhooks").json?["counts"] ?? [:]
                let sent = (counts["planned"]?.intValue ?? 0) - (counts["dropped"]?.intValue ?? 0)
                if counts["delivered"]?.intValue == sent, received.withLockedValue({ $0.count }) == sent + (counts["duplicated"]?.intValue ?? 0) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let planned = counts["planned"]?.intValue ?? 0
            let dropped = counts["dropped"]?.intValue ?? 0
            let duplicated = counts["duplicated"]?.intValue ?? 0
            #expect(planned == 20 && dropped > 0 && duplicated > 0)
            #expect(received.withLockedValue { $0.count } == planned - dropped + duplicated)
            let first = try #require(received.withLockedValue { $0.first })
            #expect(first.0 == "/webhooks/eventbrite")
            let ping = try #require(JSON.parse(first.1))
            #expect(ping["config"]?["action"] == "order.placed")
            #expect(ping["api_url"]?.stringValue?.hasPrefix(sim.api.baseURL + "/eventbrite/v3/orders/") == true)
            try await receiver.close()
        }
    }
}
