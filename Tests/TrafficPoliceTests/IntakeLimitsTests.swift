import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Testing
import TrafficPolice

#if canImport(Glibc)
import Glibc
#endif

@Suite("Webhook intake limits and lifecycle", .timeLimit(.minutes(1)))
struct IntakeLimitsTests {
    @Test func declaredOversizedBodyIs413BeforeAnyCheckOrEnqueue() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink, configure: { $0.limits.maxBodyBytes = 1024 }) { harness in
            let client = try await harness.connect()
            // Only the head: the answer must not wait for the body.
            await client.send(
                "POST /webhooks/luma HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Webhook-Signature: t=1,v1=00\r\nContent-Length: 1025\r\n\r\n")
            let response = try #require(try await client.response())
            #expect(response.status == 413)
            #expect(response.errorCode == "body_too_large")
            #expect(try await client.closed())
            // Exactly at the limit is fine (and reaches the verifier, which refuses the signature).
            let body = "{\"type\":\"x\",\"pad\":\"" + String(repeating: "a", count: 1024 - 21) + "\"}"
            #expect(body.utf8.count == 1024)
            let atLimit = try await harness.exchange(
                RawRequest.post("/webhooks/luma", body: body, headers: [("Webhook-Signature", "t=1,v1=00")]))
            #expect(atLimit?.status == 401)
            #expect(sink.calls.value == 0)
            let metrics = harness.export.text()
            #expect(metrics.contains(#"traffic_police_http_body_rejections_total{server="intake",route="luma"} 1"#))
            #expect(metrics.contains(#"reason="timestamp_out_of_tolerance"} 1"#))
        }
    }

    @Test func streamedBodyIs413AsSoonAsItPassesTheLimit() async throws {
        let sink = MemorySink()
        try await IntakeHarness.run(sink: sink, configure: { $0.limits.maxBodyBytes = 1024 }) { harness in
            let client = try await harness.connect()
            await client.send(
                "POST /webhooks/luma HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n")
            let chunk = String(repeating: "b", count: 600)
            await client.send("258\r\n\(chunk)\r\n")
            await client.send("258\r\n\(chunk)\r\n")  // 1200 bytes so far; no terminating chunk is ever sent
            let response = try #require(try await client.response())
            #expect(response.status == 413)
            #expect(try await client.closed())
            #expect(sink.calls.value == 0)
            #expect(!harness.export.text().contains("signature_failures"))
        }
    }

    @Test func oversizedHeadersAre431() async throws {
        try await IntakeHarness.run(sink: MemorySink(), configure: { $0.limits.maxHeaderBytes = 2048 }) { harness in
            let client = try await harness.connect()
            await client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "h", count: 4096))\r\n\r\n")
            let response = try #require(try await client.response())
            #expect(response.status == 431)
            #expect(response.errorCode == "headers_too_large")
            #expect(try await client.closed())
            #expect(try await harness.exchange(RawRequest.get("/healthz"))?.status == 200)
        }
    }

    @Test func aStalledClientIsCutOffWith408() async throws {
        try await IntakeHarness.run(
            sink: MemorySink(), configure: { $0.limits.readTimeout = .milliseconds(300) }
        ) { harness in
            let client = try await harness.connect()
            await client.send("POST /webhooks/luma HTTP/1.1\r\nHost: x\r\nContent-Type: applic")
            let response = try #require(try await client.response(timeout: .seconds(5)))
            #expect(response.status == 408)
            #expect(response.errorCode == "request_timeout")
            #expect(try await client.closed())
            #expect(try await harness.exchange(RawRequest.get("/healthz"))?.status == 200)
        }
    }

    @Test func aTricklingClientIsCutOffAtTheRequestDeadline() async throws {
        try await IntakeHarness.run(
            sink: MemorySink(),
            configure: {
                $0.limits.readTimeout = .seconds(5)
                $0.limits.requestTimeout = .milliseconds(500)
            }
        ) { harness in
            let client = try await harness.connect()
            let started = ContinuousClock.now
            var sent = 0
            let request = Array(RawRequest.get("/healthz").utf8)
            // One byte every 50 ms never completes the head within 500 ms.
            while sent < request.count - 2, ContinuousClock.now - started < .seconds(5) {
                guard await client.send([request[sent]]) else { break }
                sent += 1
                try await Task.sleep(for: .milliseconds(50))
            }
            let response = try #require(try await client.response(timeout: .seconds(2)))
            #expect(response.status == 408)
            #expect(ContinuousClock.now - started < .seconds(4))
        }
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        try await IntakeHarness.run(sink: MemorySink(), configure: { $0.limits.idleTimeout = .milliseconds(300) }) {
            harness in
            let client = try await harness.connect()
            await client.send(RawRequest.get("/healthz"))
            #expect(try await client.response()?.status == 200)
            #expect(try await client.closed(within: .seconds(3)))
        }
    }

    @Test func connectionsBeyondTheLimitGet503() async throws {
        try await IntakeHarness.run(sink: MemorySink(), configure: { $0.limits.maxConnections = 2 }) { harness in
            let first = try await harness.connect()
            let second = try await harness.connect()
            await first.send(RawRequest.get("/healthz"))
            await second.send(RawRequest.get("/healthz"))
            #expect(try await first.response()?.status == 200)
            #expect(try await second.response()?.status == 200)

            let third = try await harness.connect()
            let refused = try #require(try await third.response())
            #expect(refused.status == 503)
            #expect(refused.errorCode == "too_many_connections")
            #expect(refused.header("retry-after") != nil)
            #expect(try await third.closed())

            await first.close()
            // Once a slot frees, a new connection is served again.
            var served = false
            for _ in 0..<50 where !served {
                served = try await harness.exchange(RawRequest.get("/healthz"))?.status == 200
                if !served { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(served)
            await second.close()
        }
    }

    @Test func staleSocketFileIsReplacedAndModeIs0660() async throws {
        let path = testSocketPath("stale")
        // A socket file left by a crashed process: bound, then closed without unlinking.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(stale)
        #expect(FileManager.default.fileExists(atPath: path))

        var configuration = WebhookIntake.Configuration()
        configuration.socket = .path(path)
        let intake = WebhookIntake(configuration: configuration, sink: MemorySink())
        try await withRunningService(intake, listening: intake.listening) {
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o660)
            #expect(info.st_mode & S_IFMT == S_IFSOCK)
            let client = try await RawClient.connect(path)
            await client.send(RawRequest.get("/healthz"))
            #expect(try await client.response()?.status == 200)
            await client.close()
        }
        #expect(!FileManager.default.fileExists(atPath: path), "the socket file is removed on shutdown")
    }

    @Test func adoptsAnAlreadyListeningDescriptor() async throws {
        let path = testSocketPath("fd")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(fd, 16) == 0)
        defer { unlink(path) }

        var configuration = WebhookIntake.Configuration()
        configuration.socket = .descriptor(fd)
        let intake = WebhookIntake(configuration: configuration, sink: MemorySink())
        try await withRunningService(intake, listening: intake.listening) {
            let client = try await RawClient.connect(path)
            await client.send(RawRequest.get("/readyz"))
            #expect(try await client.response()?.status == 200)
            await client.close()
        }
    }

    @Test func gracefulShutdownFinishesTheRequestInFlight() async throws {
        let gate = Gate()
        let sink = MemorySink(gate: gate)
        let path = testSocketPath("drain")
        var configuration = WebhookIntake.Configuration()
        configuration.socket = .path(path)
        configuration.luma = try .init(secret: LumaSigning.secret)
        let intake = WebhookIntake(configuration: configuration, sink: sink)
        let group = ServiceGroup(
            configuration: .init(
                services: [intake], gracefulShutdownSignals: [], cancellationSignals: [], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await intake.listening.wait()
            let client = try await RawClient.connect(path)
            let body = LumaSigning.guestRegistered()
            await client.send(
                RawRequest.post(
                    "/webhooks/luma", body: body,
                    headers: [("Webhook-Signature", LumaSigning.timestamped(body, at: LumaSigning.now()))]))
            #expect(try await eventually { gate.entered.value == 1 })

            await group.triggerGracefulShutdown()
            // The listener goes away at once: new connections are refused.
            #expect(try await eventually { !FileManager.default.fileExists(atPath: path) || (try? connectFails(path)) == true })
            gate.open()
            let response = try #require(try await client.response())
            #expect(response.status == 202)
            #expect(response.header("connection") == "close")
            #expect(try await client.closed())
            try await tasks.waitForAll()
        }
        #expect(sink.deliveries.value.count == 1)
    }
}

/// Whether connecting to `path` fails now.
private func connectFails(_ path: String) throws -> Bool {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
    }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    return result != 0
}
