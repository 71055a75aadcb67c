import Foundation
import Testing
import TrafficPolice
import TrafficPoliceCore

@Suite("Admin server", .timeLimit(.minutes(1)))
struct AdminServerTests {
    @Test func probesMetricsAndEventSnapshots() async throws {
        try await TestStack.with { stack in
            let id = try TestServers.eventID("admin")
            try await stack.desk.create(
                id: id, name: "Admin API", policy: try CapacityPolicy(capacity: 100),
                split: AllocationSplit.equal)
            let export = PrometheusExport()
            let path = testSocketPath("adm")
            var configuration = AdminServer.Configuration()
            configuration.socket = .path(path)
            let ready = Locked(false)
            let desk = stack.desk
            let admin = AdminServer(
                configuration: configuration, registry: export.registry,
                snapshot: { try await desk.snapshot($0) }, readiness: { ready.value },
                metricsFactory: export.factory)
            try await withRunningService(admin, listening: admin.listening) {
                let client = try await RawClient.connect(path)
                func get(_ target: String) async throws -> RawResponse {
                    await client.send(RawRequest.get(target))
                    return try #require(try await client.response(), "\(target)")
                }
                #expect(try await get("/healthz").status == 200)
                let notReady = try await get("/readyz")
                #expect(notReady.status == 503)
                #expect(notReady.errorCode == "not_ready")
                ready.withLock { $0 = true }
                #expect(try await get("/readyz").status == 200)

                let event = try await get("/api/events/\(id.rawValue)")
                #expect(event.status == 200)
                #expect(event.header("content-type") == "application/json")
                let snapshot = try JSONDecoder().decode(EventSnapshot.self, from: Data(event.body))
                #expect(snapshot.id == id.rawValue)
                #expect(snapshot.capacity == 100)
                #expect(snapshot.stock == 100)
                #expect(snapshot.platforms.keys.sorted() == ["box_office", "eventbrite", "luma", "meetup"])

                let missing = try await get("/api/events/no-such-event-\(UUID().uuidString.prefix(8))")
                #expect(missing.status == 404)
                #expect(missing.errorCode == "event_not_found")
                let bad = try await get("/api/events/bad%20id!")
                #expect(bad.status == 400)
                #expect(bad.errorCode == "bad_event_id")
                #expect(try await get("/api/nothing").status == 404)

                await client.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                #expect(try await client.response()?.status == 405)

                let metrics = try await get("/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)
                let text = String(decoding: metrics.body, as: UTF8.self)
                #expect(text.contains("# TYPE traffic_police_http_requests_total counter"))
                #expect(text.contains(#"traffic_police_http_requests_total{server="admin",route="event",status="200"} 1"#))
                #expect(text.contains(#"traffic_police_http_requests_total{server="admin",route="event",status="404"} 1"#))
                #expect(text.contains(#"route="readyz",status="503"} 1"#))
                await client.close()
            }
        }
    }

    @Test func snapshotFailuresAre503() async throws {
        struct Down: Error {}
        let export = PrometheusExport()
        let path = testSocketPath("adm")
        var configuration = AdminServer.Configuration()
        configuration.socket = .path(path)
        let admin = AdminServer(
            configuration: configuration, registry: export.registry, snapshot: { _ in throw Down() },
            metricsFactory: export.factory)
        try await withRunningService(admin, listening: admin.listening) {
            let client = try await RawClient.connect(path)
            await client.send(RawRequest.get("/api/events/e1"))
            let response = try #require(try await client.response())
            #expect(response.status == 503)
            #expect(response.header("retry-after") != nil)
            await client.close()
        }
    }
}
