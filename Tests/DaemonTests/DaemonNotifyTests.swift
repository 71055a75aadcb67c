import Foundation
import Testing

extension DaemonSuite {
    /// The built daemon's sd_notify protocol as systemd sees it on NOTIFY_SOCKET.
    @Suite struct DaemonNotifyTests {
        @Test(.timeLimit(.minutes(1)))
        func readyStatusWatchdogAndStopping() async throws {
            let daemon = try DaemonProcess(overrides: ["WATCHDOG_USEC": "1000000"])
            defer { daemon.cleanUp() }
            try await daemon.start()
            // READY=1 came only once the sockets were bound: both answer now.
            #expect(try await UnixHTTPClient.get(socketPath: daemon.webhookSocket, path: "/readyz").status == 200)
            #expect(try await UnixHTTPClient.get(socketPath: daemon.adminSocket, path: "/readyz").status == 200)
            // WATCHDOG=1 at half the interval, and a STATUS= line with the mode and the queue depth.
            #expect(await daemon.notify.wait(for: "STATUS=mode=open queue=", timeout: .seconds(15)))
            try await Task.sleep(for: .seconds(2))
            let pings = daemon.notify.received.filter { $0.contains("WATCHDOG=1") }.count
            #expect(pings >= 2, "WATCHDOG=1 pings: \(daemon.notify.received)")
            #expect(await daemon.terminate() == 0)
            #expect(daemon.notify.received.contains { $0.contains("STOPPING=1") })
        }

        @Test(.timeLimit(.minutes(1)))
        func aMissingSchemaStopsStartUpWithAClearError() async throws {
            let database = "tp_empty_\(UUID().uuidString.prefix(8).lowercased())"
            let base = try #require(ProcessInfo.processInfo.environment["TRAFFIC_POLICE_POSTGRES_URL"], "run scripts/test")
            let postgres = try DaemonEndToEndTests.postgres()
            try await postgres.query("CREATE DATABASE \(database)")
            defer {
                Task {
                    _ = try? await postgres.query("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
                    await postgres.shutdown()
                }
            }
            let slash = try #require(base.lastIndex(of: "/"))
            let url = base[..<slash] + "/" + database
            let daemon = try DaemonProcess(overrides: ["TRAFFIC_POLICE_POSTGRES_URL": url])
            defer { daemon.cleanUp() }
            await #expect(throws: (any Error).self) { try await daemon.start(readyWithin: .seconds(20)) }
            #expect(daemon.log().contains("traffic-police migrate"), "\(daemon.log())")
            #expect(!daemon.notify.received.contains { $0.contains("READY=1") })
        }
    }
}
