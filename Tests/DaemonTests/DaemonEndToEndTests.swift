import Synchronization
import Foundation
import PostgresBridge
import Testing
import TrafficPoliceCore

extension DaemonSuite {
    /// The built daemon end to end, on real Redis and PostgreSQL: signed Luma deliveries over the
    /// webhook socket, duplicates and bad signatures among them, kill -9 in the middle and a restart;
    /// afterwards every delivery answered 202 is in the ledger exactly once, and nothing else is (G3, G4).
    @Suite struct DaemonEndToEndTests {
        static let secret = "whsec_test_\(UUID().uuidString.prefix(8))"

        /// Luma enabled (it needs both credentials) with an API that refuses connections at once:
        /// these tests only deliver webhooks, and a push or close that fails fast changes nothing.
        static let lumaCredentials = [
            "TRAFFIC_POLICE_CREDENTIAL_LUMA_WEBHOOK_SECRET": secret,
            "TRAFFIC_POLICE_CREDENTIAL_LUMA_API_KEY": "luma-key",
            "TRAFFIC_POLICE_PLATFORMS_LUMA_BASE_URL": "http://127.0.0.1:9/luma",
        ]

        /// What one test delivery is and what the daemon answered.
        struct Sent: Sendable {
            var guestID: String
            var tickets: Int
            var signedCorrectly: Bool
            var status: Int
        }

        static func cli(_ arguments: [String], environment overrides: [String: String] = [:]) async throws -> (Int32, String) {
            let process = Process()
            process.executableURL = try DaemonProcess.binary()
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            environment["TRAFFIC_POLICE_CONFIG"] = "/dev/null"
            environment.merge(overrides) { $1 }
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data: Data = await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile()) }
            }
            while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        /// Creates an event linked to a fresh Luma event id; returns (event id, Luma event id).
        static func makeEvent(capacity: Int, environment: [String: String] = [:]) async throws -> (String, String) {
            let event = "e2e-\(UUID().uuidString.prefix(8).lowercased())"
            let lumaEvent = "evt-\(UUID().uuidString.prefix(12).lowercased())"
            #expect(try await cli(["migrate"], environment: environment).0 == 0)
            let created = try await cli(
                ["event", "create", event, "--name", "E2E", "--capacity", String(capacity)], environment: environment)
            try #require(created.0 == 0, "\(created.1)")
            let linked = try await cli(
                ["event", "link", event, "--platform", "luma", "--platform-event", lumaEvent], environment: environment)
            try #require(linked.0 == 0, "\(linked.1)")
            return (event, lumaEvent)
        }

        /// Sends one delivery, retrying while the daemon is down (connection refused) for up to `patience`.
        static func send(_ delivery: LumaDelivery, to daemon: @Sendable () -> String, signed: Bool, patience: Duration)
            async throws -> Int
        {
            let deadline = ContinuousClock.now + patience
            while true {
                do {
                    let response = try await UnixHTTPClient.post(
                        socketPath: daemon(), path: "/webhooks/luma", body: delivery.body,
                        headers: delivery.headers(secret: secret, tamper: !signed))
                    if response.status == 503 && ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(50))
                        continue
                    }
                    return response.status
                } catch {
                    guard ContinuousClock.now < deadline else { throw error }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
        }

        static func postgres(url: String? = nil) throws -> PostgresClient {
            let url = try url ?? #require(ProcessInfo.processInfo.environment["TRAFFIC_POLICE_POSTGRES_URL"], "run scripts/test")
            return PostgresClient(configuration: PostgresConfiguration(connectionString: url, poolSize: 1))
        }

        static func ledgerOrders(_ postgres: PostgresClient, event: String) async throws -> [String: Int] {
            var result: [String: Int] = [:]
            for row in try await postgres.query(
                "SELECT platform_order_id, quantity FROM orders WHERE event_id = $1 AND platform = 'luma' AND released_at IS NULL",
                [event])
            {
                result[try row.decode("platform_order_id")] = try row.decode("quantity")
            }
            return result
        }

        @Test(.timeLimit(.minutes(3)))
        func everyAcceptedDeliveryIsInTheLedgerOnceAcrossKill9() async throws {
            let (event, lumaEvent) = try await Self.makeEvent(capacity: 10_000)
            let daemon = try DaemonProcess(overrides: Self.lumaCredentials)
            defer { daemon.cleanUp() }
            try await daemon.start()
            let socket = daemon.webhookSocket

            // 120 guests; each is sent as 1–3 webhook kinds, some repeated verbatim, some badly signed.
            var rng = SplitMix64(seed: 2026)
            var plan: [(LumaDelivery, Bool)] = []
            for n in 0..<120 {
                let guest = "gst-\(n)-\(UUID().uuidString.prefix(6).lowercased())"
                let tickets = Int.random(in: 1...3, using: &rng)
                let kinds = ["guest.registered", "ticket.registered", "guest.updated"].shuffled(using: &rng)
                    .prefix(Int.random(in: 1...3, using: &rng))
                let forged = Int.random(in: 0..<10, using: &rng) == 0
                for kind in kinds {
                    let delivery = LumaDelivery(
                        webhookID: "wh-\(UUID().uuidString.lowercased())", type: kind, guestID: guest,
                        eventID: lumaEvent, tickets: tickets)
                    plan.append((delivery, !forged))
                    if Int.random(in: 0..<5, using: &rng) == 0 { plan.append((delivery, !forged)) }
                }
            }
            plan.shuffle(using: &rng)

            let results = Locked([Sent]())
            let queue = Locked(plan[...])
            let total = plan.count
            try await withThrowingTaskGroup(of: Void.self) { group in
                // kill -9 once a third of the deliveries were answered, then start again.
                group.addTask {
                    while results.value.count < total / 3 { try await Task.sleep(for: .milliseconds(5)) }
                    await daemon.kill9()
                    try await daemon.start()
                }
                for _ in 0..<8 {
                    group.addTask {
                        while let (delivery, signed) = queue.withLock({ $0.popFirst() }) {
                            let status = try await Self.send(delivery, to: { socket }, signed: signed, patience: .seconds(40))
                            results.withLock {
                                $0.append(Sent(guestID: delivery.guestID, tickets: delivery.tickets, signedCorrectly: signed, status: status))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }

            let sent = results.value
            #expect(sent.count == total)
            // The daemon really was killed and started again in the middle of the burst.
            #expect(daemon.notify.received.filter { $0.contains("READY=1") }.count == 2)
            for delivery in sent {
                if delivery.signedCorrectly {
                    #expect([200, 202].contains(delivery.status), "guest \(delivery.guestID) got \(delivery.status)")
                } else {
                    #expect(delivery.status == 401, "forged delivery for \(delivery.guestID) got \(delivery.status)")
                }
            }
            var expected: [String: Int] = [:]
            for delivery in sent where delivery.signedCorrectly && [200, 202].contains(delivery.status) {
                expected[delivery.guestID] = delivery.tickets
            }

            #expect(expected.count >= 90, "most guests were signed correctly and accepted")

            // The workers drain the queue; every accepted guest lands once with its ticket count.
            let postgres = try Self.postgres()
            defer { Task { await postgres.shutdown() } }
            let deadline = ContinuousClock.now + .seconds(60)
            var ledger: [String: Int] = [:]
            while ContinuousClock.now < deadline {
                ledger = try await Self.ledgerOrders(postgres, event: event)
                if ledger.count >= expected.count { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(ledger == expected, "ledger differs from the accepted deliveries: \(daemon.log().suffix(2000))")
            let sold = try await postgres.query("SELECT sold FROM events WHERE id = $1", [event]).first?.decode("sold", as: Int.self)
            #expect(sold == expected.values.reduce(0, +))

            // SIGTERM: STOPPING=1, and exit 0.
            #expect(await daemon.terminate() == 0, "\(daemon.log().suffix(2000))")
            #expect(daemon.notify.received.contains { $0.contains("STOPPING=1") })
        }

        /// `[queue] workers = 0`: an intake-only instance answers 202 and leaves the jobs queued; a
        /// second instance with workers, sharing Redis and PostgreSQL, applies them (DESIGN.md section 7).
        @Test(.timeLimit(.minutes(2)))
        func anIntakeOnlyInstanceLeavesItsJobsToAnotherInstancesWorkers() async throws {
            let (event, lumaEvent) = try await Self.makeEvent(capacity: 100)
            let credential = Self.lumaCredentials
            let intake = try DaemonProcess(overrides: credential.merging(["TRAFFIC_POLICE_QUEUE_WORKERS": "0"]) { $1 })
            defer { intake.cleanUp() }
            try await intake.start()
            var expected: [String: Int] = [:]
            for n in 0..<5 {
                let guest = "gst-io-\(n)-\(UUID().uuidString.prefix(6).lowercased())"
                let delivery = LumaDelivery(
                    webhookID: "wh-\(UUID().uuidString.lowercased())", type: "guest.registered", guestID: guest,
                    eventID: lumaEvent, tickets: n % 3 + 1)
                let socket = intake.webhookSocket
                #expect(try await Self.send(delivery, to: { socket }, signed: true, patience: .seconds(5)) == 202)
                expected[guest] = n % 3 + 1
            }
            let postgres = try Self.postgres()
            defer { Task { await postgres.shutdown() } }
            try await Task.sleep(for: .seconds(1))
            #expect(try await Self.ledgerOrders(postgres, event: event).isEmpty, "the intake-only instance applied jobs")

            let worker = try DaemonProcess(overrides: credential)
            defer { worker.cleanUp() }
            try await worker.start()
            let deadline = ContinuousClock.now + .seconds(30)
            var ledger: [String: Int] = [:]
            while ContinuousClock.now < deadline {
                ledger = try await Self.ledgerOrders(postgres, event: event)
                if ledger.count >= expected.count { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(ledger == expected, "\(worker.log().suffix(2000))")
            #expect(await worker.terminate() == 0)
            #expect(await intake.terminate() == 0, "\(intake.log().suffix(2000))")
        }
    }
}
