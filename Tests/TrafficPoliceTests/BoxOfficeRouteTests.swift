import Foundation
import Logging
import PostgresBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// `POST /api/events/{id}/sales` on the admin socket, against the real Redis and PostgreSQL.
@Suite("Box office route", .timeLimit(.minutes(1)))
struct BoxOfficeRouteTests {
    /// An admin server selling through the stack's desk, one event, and a way to post to it.
    struct World {
        let stack: TestStack
        let event: EventID
        let client: RawClient
        let logs: LogCapture

        func post(_ body: String, event: String? = nil) async throws -> RawResponse {
            await client.send(RawRequest.post("/api/events/\(event ?? self.event.rawValue)/sales", body: body))
            return try #require(try await client.response(), "\(body)")
        }

        /// Tickets the box office sold, as the ledger counts them.
        func ledgerSold() async throws -> Int {
            let rows = try await stack.postgres.query(
                "SELECT coalesce(sum(quantity), 0)::int AS sold FROM box_office_sales WHERE event_id = $1",
                [event.rawValue])
            return try rows.first?.decode("sold") ?? -1
        }

        func freeStock() async throws -> Int { try await stack.desk.snapshot(event).freeStock }
    }

    static func withWorld(_ body: (World) async throws -> Void) async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("boxoffice")
            try await stack.desk.create(
                id: event, name: "Box office", policy: try CapacityPolicy(capacity: 100), split: .equal)
            let export = PrometheusExport()
            let path = testSocketPath("box")
            var configuration = AdminServer.Configuration()
            configuration.socket = .path(path)
            let desk = stack.desk
            let logs = LogCapture()
            let admin = AdminServer(
                configuration: configuration, registry: export.registry, snapshot: { try await desk.snapshot($0) },
                sell: { try await desk.sell($0, quantity: $1.quantity, approvedBy: $1.approvedBy, saleID: $1.saleID) },
                metricsFactory: export.factory, logger: Logger(label: "test.box-office") { _ in logs })
            try await withRunningService(admin, listening: admin.listening) {
                let client = try await RawClient.connect(path)
                try await body(World(stack: stack, event: event, client: client, logs: logs))
                await client.close()
            }
        }
    }

    @Test func aSaleIsRecordedWithTheOperatorsNameAndARepeatSellsNothing() async throws {
        try await Self.withWorld { world in
            let free = try await world.freeStock()
            try #require(free >= 3)
            let sold = try await world.post(#"{"quantity": 3, "approved_by": " ana ", "approve": true, "sale_id": "bo-7"}"#)
            #expect(sold.status == 201)
            let json = try #require(sold.json)
            #expect(json["sale_id"] as? String == "bo-7")
            #expect(json["quantity"] as? Int == 3)
            #expect(json["stock_after"] as? Int == 97)
            #expect(json["entered_red_alert"] as? Bool == false)
            let event = try #require(json["event"] as? [String: Any])
            #expect(event["id"] as? String == world.event.rawValue)
            #expect(event["free_stock"] as? Int == free - 3)
            let rows = try await world.stack.postgres.query(
                "SELECT approved_by, quantity FROM box_office_sales WHERE event_id = $1 AND id = $2",
                [world.event.rawValue, "bo-7"])
            #expect(rows.first?["approved_by"] == "ana")
            let logged = world.logs.entries.filter { $0.message == "box-office sale" }
            #expect(logged.count == 1)
            #expect(logged.first?.level == .notice)
            #expect(
                logged.first?.fields
                    == ["EVENT_ID": world.event.rawValue, "OPERATOR": "ana", "QUANTITY": "3", "SALE_ID": "bo-7"])

            let again = try await world.post(#"{"quantity": 5, "approved_by": "bob", "approve": true, "sale_id": "bo-7"}"#)
            #expect(again.status == 200)
            #expect(again.json?["quantity"] as? Int == 3)
            #expect(again.json?["duplicate"] as? Bool == true)
            #expect(try await world.ledgerSold() == 3)
            #expect(try await world.stack.desk.snapshot(world.event).sold == 3)

            // Without a sale id, one is made up: two such sales are two sales.
            let first = try await world.post(#"{"quantity": 1, "approved_by": "ana", "approve": true}"#)
            let second = try await world.post(#"{"quantity": 1, "approved_by": "ana", "approve": true}"#)
            #expect(first.status == 201 && second.status == 201)
            let ids = [first.json?["sale_id"] as? String, second.json?["sale_id"] as? String].compactMap { $0 }
            #expect(Set(ids).count == 2)
            #expect(try await world.ledgerSold() == 5)
        }
    }

    @Test func refusalsSellNothing() async throws {
        try await Self.withWorld { world in
            let free = try await world.freeStock()
            func expectRefused(_ body: String, _ status: Int, _ code: String, event: String? = nil) async throws {
                let response = try await world.post(body, event: event)
                #expect(response.status == status, "\(body)")
                #expect(response.errorCode == code, "\(body)")
                #expect((response.json?["message"] as? String)?.isEmpty == false, "\(body)")
            }
            try await expectRefused(#"{"quantity": 1, "approved_by": "ana"}"#, 400, "approval_required")
            try await expectRefused(#"{"quantity": 1, "approved_by": "ana", "approve": false}"#, 400, "approval_required")
            try await expectRefused(#"{"quantity": 1, "approved_by": "  ", "approve": true}"#, 400, "approved_by_required")
            try await expectRefused(#"{"quantity": 1, "approve": true}"#, 400, "approved_by_required")
            try await expectRefused(#"{"quantity": 0, "approved_by": "ana", "approve": true}"#, 400, "bad_quantity")
            try await expectRefused(#"{"approved_by": "ana", "approve": true}"#, 400, "bad_quantity")
            try await expectRefused(#"{"quantity": "2", "approved_by": "ana", "approve": true}"#, 400, "bad_quantity")
            try await expectRefused(#"{"quantity": 1.5, "approved_by": "ana", "approve": true}"#, 400, "bad_quantity")
            try await expectRefused(#"{"quantity": 1, "approved_by": "ana", "approve": true, "sale_id": ""}"#, 400, "bad_sale_id")
            try await expectRefused(#"{"quantity": 1, "approved_by": "ana", "approve": true, "qty": 2}"#, 400, "unknown_field")
            try await expectRefused(#"{"quantity": 1, "approved_by": "ana", "approve": "yes"}"#, 400, "malformed_json")
            try await expectRefused(#"{"quantity": 1, "approved_by": "ana", "#, 400, "malformed_json")
            try await expectRefused("[1]", 400, "malformed_json")
            let unknown = "no-such-event-\(UUID().uuidString.prefix(8).lowercased())"
            try await expectRefused(#"{"quantity": 1, "approved_by": "ana", "approve": true}"#, 404, "event_not_found", event: unknown)

            let over = try await world.post(#"{"quantity": \#(free + 1), "approved_by": "ana", "approve": true}"#)
            #expect(over.status == 409)
            #expect(over.errorCode == "refused")
            #expect(over.json?["available"] as? Int == free)
            #expect(try await world.ledgerSold() == 0)
            #expect(try await world.stack.desk.snapshot(world.event).sold == 0)

            await world.client.send(
                RawRequest.post("/api/events/\(world.event.rawValue)/sales", body: "quantity=1", contentType: "text/plain"))
            #expect(try await world.client.response()?.status == 415)
            await world.client.send(RawRequest.get("/api/events/\(world.event.rawValue)/sales"))
            #expect(try await world.client.response()?.status == 405)
        }
    }

    @Test func failsafeRefusesEverySale() async throws {
        try await Self.withWorld { world in
            try await world.stack.ledger.setMode(.failsafe, event: world.event)
            _ = try await world.stack.reservations.setMode(.failsafe, event: world.event)
            let refused = try await world.post(#"{"quantity": 1, "approved_by": "ana", "approve": true}"#)
            #expect(refused.status == 423)
            #expect(refused.errorCode == "failsafe")
            #expect(try await world.ledgerSold() == 0)
        }
    }

    @Test func withoutASellerEverySaleIs503() async throws {
        let export = PrometheusExport()
        let path = testSocketPath("box")
        var configuration = AdminServer.Configuration()
        configuration.socket = .path(path)
        let admin = AdminServer(
            configuration: configuration, registry: export.registry, snapshot: { _ in throw CancellationError() },
            metricsFactory: export.factory)
        try await withRunningService(admin, listening: admin.listening) {
            let client = try await RawClient.connect(path)
            await client.send(
                RawRequest.post("/api/events/e1/sales", body: #"{"quantity": 1, "approved_by": "ana", "approve": true}"#))
            let response = try #require(try await client.response())
            #expect(response.status == 503)
            #expect(response.errorCode == "unavailable")
            await client.close()
        }
    }
}

/// Keeps what a logger logged: level, message and metadata as text.
final class LogCapture: LogHandler, @unchecked Sendable {
    struct Entry {
        var level: Logger.Level
        var message: String
        var fields: [String: String]
    }

    private let storage = Locked<[Entry]>([])
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    var entries: [Entry] { storage.value }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).merging(metadata) { own, _ in own }.mapValues { "\($0)" }
        storage.withLock { $0.append(Entry(level: event.level, message: event.message.description, fields: fields)) }
    }
}
