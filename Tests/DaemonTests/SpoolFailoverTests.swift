import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    /// G4 across a hung Redis: the built daemon keeps answering 202 while its Redis is frozen
    /// (SIGSTOP) by writing deliveries to the spool in its state directory, and once Redis answers
    /// again the spool is replayed into the queue and every delivery reaches the ledger.
    @Suite struct SpoolFailoverTests {
        typealias E2E = DaemonEndToEndTests

        @Test(.timeLimit(.minutes(2)))
        func deliveriesAnsweredWhileRedisIsFrozenReachTheLedgerWhenItThaws() async throws {
            // Its own database too: its daemon reports fail-safe there, which refuses box-office sales.
            let stores = try await PrivateStores.start()
            defer { stores.cleanUp() }
            let redis = stores.redis
            let environment = stores.environment
            let (event, lumaEvent) = try await E2E.makeEvent(capacity: 100, environment: environment)
            let daemon = try DaemonProcess(
                overrides: environment.merging(E2E.lumaCredentials) { $1 })
            defer { daemon.cleanUp() }
            try await daemon.start()
            let postgres = try E2E.postgres(url: stores.database.url)
            defer { Task { await postgres.shutdown() } }
            var expected: [String: Int] = [:]
            func send(_ n: Int) async throws -> Int {
                let guest = "gst-spool-\(n)-\(UUID().uuidString.prefix(6).lowercased())"
                let delivery = LumaDelivery(
                    webhookID: "wh-\(UUID().uuidString.lowercased())", type: "guest.registered", guestID: guest,
                    eventID: lumaEvent, tickets: n % 2 + 1)
                let socket = daemon.webhookSocket
                let status = try await E2E.send(delivery, to: { socket }, signed: true, patience: .zero)
                if status == 202 { expected[guest] = n % 2 + 1 }
                return status
            }
            for n in 0..<3 { #expect(try await send(n) == 202) }

            redis.signal(SIGSTOP)
            try await Task.sleep(for: .milliseconds(1500))  // the watchdog trips within 1 s
            let frozenAt = ContinuousClock.now
            for n in 3..<13 { #expect(try await send(n) == 202, "answered while Redis is frozen") }
            let answeredIn = ContinuousClock.now - frozenAt
            let spool = daemon.directory + "/state/deliveries.spool"
            let spooled = (try? FileManager.default.attributesOfItem(atPath: spool)[.size] as? Int) ?? 0
            #expect(spooled > 0, "the deliveries are in the spool")
            #expect(answeredIn < .seconds(10), "10 deliveries spooled in \(answeredIn)")

            redis.signal(SIGCONT)
            let deadline = ContinuousClock.now + .seconds(45)
            var ledger: [String: Int] = [:]
            while ContinuousClock.now < deadline {
                ledger = try await E2E.ledgerOrders(postgres, event: event)
                if ledger.count >= expected.count { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(expected.count == 13)
            #expect(ledger == expected, "\(daemon.log().suffix(3000))")
            let drained = (try? FileManager.default.attributesOfItem(atPath: spool)[.size] as? Int) ?? -1
            #expect(drained == 0, "the spool is emptied after the replay")
            #expect(daemon.log().contains("spool replayed into the queue"))
            #expect(await daemon.terminate() == 0, "\(daemon.log().suffix(2000))")
        }
    }
}
