import Foundation
import Logging
import Testing
import TrafficPolice
import TrafficPoliceCore

@Suite("Webhook intake routes", .timeLimit(.minutes(1)))
struct IntakeWebhookTests {
    @Test func signedLumaDeliveryIsAcceptedOnlyAfterTheSinkHasIt() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink) { harness in
            let body = LumaSigning.guestRegistered("gst-42")
            let signature = LumaSigning.timestamped(body, at: LumaSigning.now())
            let request = RawRequest.post(
                "/webhooks/luma", body: body, headers: [("Webhook-Signature", signature), ("Webhook-Id", "wh-42")])
            let response = try #require(try await harness.exchange(request))
            #expect(response.status == 202)
            #expect(response.json?["status"] as? String == "accepted")
            let delivery = try #require(sink.deliveries.value.first)
            #expect(delivery.platform == .luma)
            #expect(delivery.dedupeKey == "wh-42")
            #expect(delivery.kind == "guest.registered")
            #expect(delivery.body == body)

            let again = try #require(try await harness.exchange(request))
            #expect(again.status == 200)
            #expect(again.json?["status"] as? String == "duplicate")
            #expect(sink.deliveries.value.count == 1)
        }
    }

    @Test func withoutWebhookIDTheBodyHashDedupes() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink) { harness in
            let body = LumaSigning.guestRegistered()
            let request = RawRequest.post(
                "/webhooks/luma", body: body,
                headers: [("Webhook-Signature", LumaSigning.timestamped(body, at: LumaSigning.now()))])
            #expect(try await harness.exchange(request)?.status == 202)
            #expect(try await harness.exchange(request)?.status == 200)
            let key = try #require(sink.deliveries.value.first?.dedupeKey)
            #expect(key.hasPrefix("sha256:") && key.count == 7 + 64)
        }
    }

    @Test func badSignatureOldTimestampAndMissingSignatureAre401() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink) { harness in
            let body = LumaSigning.guestRegistered()
            let now = LumaSigning.now()
            let wrongSecret = LumaSigning.timestamped(body, secret: "whsec_nope", at: now)
            let old = LumaSigning.timestamped(body, at: now - 301)
            let cases: [([(String, String)], String)] = [
                ([("Webhook-Signature", wrongSecret)], "bad_signature"),
                ([("Webhook-Signature", old)], "timestamp_out_of_tolerance"),
                ([], "missing_signature"),
            ]
            let client = try await harness.connect()
            for (headers, code) in cases {
                await client.send(RawRequest.post("/webhooks/luma", body: body, headers: headers))
                let response = try #require(try await client.response())
                #expect(response.status == 401)
                #expect(response.errorCode == code)
            }
            // Same connection, still served after each refusal.
            await client.send(
                RawRequest.post(
                    "/webhooks/luma", body: body,
                    headers: [("Webhook-Signature", LumaSigning.timestamped(body, at: now))]))
            #expect(try await client.response()?.status == 202)
            await client.close()
            #expect(sink.deliveries.value.count == 1)
            let metrics = harness.export.text()
            #expect(metrics.contains(#"traffic_police_intake_signature_failures_total{platform="luma",reason="bad_signature"} 1"#))
            #expect(metrics.contains(#"route="luma""#) && metrics.contains(#"status="401""#))
        }
    }

    @Test func malformedRequestsGetJSONErrorsAndTheServerKeepsServing() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink) { harness in
            let client = try await harness.connect()
            let broken = "{\"type\": \"guest.registered\", "
            let signedBroken = LumaSigning.timestamped(broken, at: LumaSigning.now())
            let requests: [(String, Int, String)] = [
                (RawRequest.post("/webhooks/luma", body: broken, headers: [("Webhook-Signature", signedBroken)]), 400, "invalid_json"),
                (RawRequest.post("/webhooks/eventbrite", body: "[1,2"), 400, "invalid_json"),
                (RawRequest.post("/webhooks/luma", body: "{}", contentType: "text/plain"), 415, "unsupported_media_type"),
                (RawRequest.post("/webhooks/luma", body: "{}", contentType: nil), 415, "unsupported_media_type"),
                (RawRequest.get("/nowhere"), 404, "not_found"),
                (RawRequest.get("/webhooks/luma"), 405, "method_not_allowed"),
            ]
            for (request, status, code) in requests {
                await client.send(request)
                let response = try #require(try await client.response(), "\(status) \(code)")
                #expect(response.status == status)
                #expect(response.errorCode == code)
                #expect(response.header("content-type") == "application/json")
                #expect((response.json?["message"] as? String)?.isEmpty == false)
            }
            await client.send(RawRequest.get("/healthz"))
            #expect(try await client.response()?.status == 200)
            await client.close()

            // Not HTTP at all: 400 and closed, and the next connection is served.
            let garbage = try await harness.connect()
            await garbage.send("NOT HTTP AT ALL\r\n\r\n")
            let refused = try #require(try await garbage.response())
            #expect(refused.status == 400)
            #expect(refused.errorCode == "malformed_request")
            #expect(try await garbage.closed())
            #expect(try await harness.exchange(RawRequest.get("/readyz"))?.status == 200)
            #expect(sink.calls.value == 0)
        }
    }

    @Test func sinkFailureIs503WithRetryAfter() async throws {
        try await IntakeHarness.run(sink: FailingSink()) { harness in
            let body = LumaSigning.guestRegistered()
            let response = try #require(
                try await harness.exchange(
                    RawRequest.post(
                        "/webhooks/luma", body: body,
                        headers: [("Webhook-Signature", LumaSigning.timestamped(body, at: LumaSigning.now()))])))
            #expect(response.status == 503)
            #expect(response.header("retry-after") == "5")
            #expect(response.errorCode == "not_durable")
        }
    }

    @Test func eventbritePingWithOwnAPIURLIsAcceptedForeignOnesAre400() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink) { harness in
            func ping(_ url: String, action: String = "order.placed") -> String {
                #"{"api_url":"\#(url)","config":{"action":"\#(action)","endpoint_url":"https://x/webhooks/eventbrite","user_id":"1","webhook_id":"2"}}"#
            }
            let good = ping("https://www.eventbriteapi.com/v3/orders/1546689753/")
            let accepted = try #require(try await harness.exchange(RawRequest.post("/webhooks/eventbrite", body: good)))
            #expect(accepted.status == 202)
            let delivery = try #require(sink.deliveries.value.first)
            #expect(delivery.platform == .eventbrite)
            #expect(delivery.kind == "order.placed")
            #expect(delivery.dedupeKey == "order.placed https://www.eventbriteapi.com/v3/orders/1546689753/")
            #expect(delivery.body == good)

            for foreign in [
                "https://evil.example/v3/orders/1/", "https://www.eventbriteapi.com:8443/v3/orders/1/",
                "https://www.eventbriteapi.com/v2/orders/1/", "http://www.eventbriteapi.com/v3/orders/1/",
            ] {
                let response = try #require(try await harness.exchange(RawRequest.post("/webhooks/eventbrite", body: ping(foreign))))
                #expect(response.status == 400, "\(foreign)")
                #expect(response.errorCode == "foreign_api_url")
            }
            let noAction = #"{"api_url":"https://www.eventbriteapi.com/v3/orders/1/","config":{}}"#
            #expect(try await harness.exchange(RawRequest.post("/webhooks/eventbrite", body: noAction))?.status == 400)
            #expect(sink.deliveries.value.count == 1)
        }
    }

    @Test func eventbriteSecretPathSegment() async throws {
        let sink = MemorySink()
        let lines = LineCollector()
        let logger = Logger(label: "test") { _ in lines.handler() }
        try await IntakeHarness.run(
            sink: sink, configure: { $0.eventbrite = try .init(pathSecret: "s3cr3t") }, logger: logger
        ) { harness in
            let body = #"{"api_url":"https://www.eventbriteapi.com/v3/orders/9/","config":{"action":"order.placed"}}"#
            #expect(try await harness.exchange(RawRequest.post("/webhooks/eventbrite/s3cr3t", body: body))?.status == 202)
            let wrong = try #require(try await harness.exchange(RawRequest.post("/webhooks/eventbrite/guess", body: body)))
            #expect(wrong.status == 404)
            #expect(!String(decoding: wrong.body, as: UTF8.self).contains("guess"))
            // The plain path says why it is a 404 (a secret path is configured), without the secret.
            let plain = try #require(try await harness.exchange(RawRequest.post("/webhooks/eventbrite", body: body)))
            #expect(plain.status == 404)
            #expect(plain.errorCode == "secret_path_required")
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(plain.body)) as? [String: String])
            let text = try #require(answer["message"])
            #expect(text.contains("/webhooks/eventbrite/<eventbrite-webhook-secret>"), "\(text)")
            #expect(!text.contains("s3cr3t"))
            #expect(sink.deliveries.value.count == 1)
        }
        // One info line at start names the path to give Eventbrite, never the secret.
        let started = lines.lines.filter { $0.message.contains("Eventbrite webhooks") }
        #expect(started.count == 1)
        #expect(started.first?.level == .info)
        #expect(started.first?.message.contains("POST /webhooks/eventbrite/<eventbrite-webhook-secret>") == true)
        #expect(!lines.lines.contains { $0.message.contains("s3cr3t") })
    }

    @Test func eventbriteWithoutASecretTakesThePlainPath() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink) { harness in
            let body = #"{"api_url":"https://www.eventbriteapi.com/v3/orders/9/","config":{"action":"order.placed"}}"#
            #expect(try await harness.exchange(RawRequest.post("/webhooks/eventbrite", body: body))?.status == 202)
            let secretLike = try #require(try await harness.exchange(RawRequest.post("/webhooks/eventbrite/x", body: body)))
            #expect(secretLike.status == 404 && secretLike.errorCode == "not_found")
        }
    }

    @Test func disabledPlatformsAnswer503() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink, configure: { $0.luma = nil; $0.eventbrite = nil }) { harness in
            for path in ["/webhooks/luma", "/webhooks/eventbrite"] {
                let response = try #require(try await harness.exchange(RawRequest.post(path, body: "{}")))
                #expect(response.status == 503)
                #expect(response.errorCode == "platform_disabled")
                #expect(response.header("retry-after") != nil)
            }
            #expect(sink.calls.value == 0)
        }
    }

    @Test func pipelinedRequestsAndExpectContinueAreServedInOrder() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink) { harness in
            let client = try await harness.connect()
            await client.send(RawRequest.get("/healthz") + RawRequest.get("/nowhere") + RawRequest.get("/readyz"))
            #expect(try await client.response()?.status == 200)
            #expect(try await client.response()?.status == 404)
            #expect(try await client.response()?.status == 200)

            let body = #"{"api_url":"https://www.eventbriteapi.com/v3/orders/5/","config":{"action":"order.placed"}}"#
            await client.send(
                "POST /webhooks/eventbrite HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Expect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
            try await Task.sleep(for: .milliseconds(50))
            await client.send(body)
            #expect(try await client.response()?.status == 202)
            await client.close()
        }
    }
}
