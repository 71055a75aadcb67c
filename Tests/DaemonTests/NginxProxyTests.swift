import Foundation
import PostgresBridge
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension DaemonSuite {
    /// A real nginx, configured from the shipped example (etc/nginx/traffic-police.conf), in front of
    /// the daemon's webhook socket: real deliveries through the proxy reach the ledger, and the
    /// admin API is not reachable through it.
    @Suite struct NginxProxyTests {
        static func nginxBinary() throws -> String {
            let candidates = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            return try #require(
                candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                "nginx is not installed: scripts/test installs it (apt-get install nginx)")
        }

        static func freePort() throws -> UInt16 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return UInt16(bigEndian: address.sin_port)
        }

        /// The shipped server block, with a loopback plain-HTTP listener instead of TLS on 443 and the
        /// test daemon's socket instead of /run/traffic-police/webhook.sock.
        static func configuration(port: UInt16, socket: String, directory: String) throws -> String {
            let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("etc/nginx/traffic-police.conf")
            var server = try String(contentsOf: shipped, encoding: .utf8)
            server = server.replacingOccurrences(of: "unix:/run/traffic-police/webhook.sock", with: "unix:\(socket)")
            server = server.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("listen [::]") || trimmed.hasPrefix("ssl_certificate") { return nil }
                if trimmed.hasPrefix("listen ") { return "    listen 127.0.0.1:\(port);" }
                return String(line)
            }.joined(separator: "\n")
            return """
                daemon off;
                master_process off;
                worker_processes 1;
                pid \(directory)/nginx.pid;
                error_log \(directory)/error.log warn;
                events { worker_connections 256; }
                http {
                    access_log \(directory)/access.log;
                    client_body_temp_path \(directory)/body;
                    proxy_temp_path \(directory)/proxy;
                    fastcgi_temp_path \(directory)/fastcgi;
                    uwsgi_temp_path \(directory)/uwsgi;
                    scgi_temp_path \(directory)/scgi;
                \(server)
                }
                """
        }

        @Test(.timeLimit(.minutes(2)))
        func deliveriesThroughNginxReachTheLedger() async throws {
            let nginx = try Self.nginxBinary()
            let (event, lumaEvent) = try await DaemonEndToEndTests.makeEvent(capacity: 100)
            let daemon = try DaemonProcess(overrides: DaemonEndToEndTests.lumaCredentials)
            defer { daemon.cleanUp() }
            try await daemon.start()

            let port = try Self.freePort()
            let directory = daemon.directory + "/nginx"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let config = directory + "/nginx.conf"
            try Self.configuration(port: port, socket: daemon.webhookSocket, directory: directory)
                .write(toFile: config, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: nginx)
            process.arguments = ["-p", directory, "-c", config]
            // nginx must not inherit the test runner's stdout: `swift test` waits for every writer to close it.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            defer {
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                }
            }

            // Wait for nginx to listen.
            let proxy = "tcp:\(port)"
            var health: UnixHTTPClient.Response?
            for _ in 0..<100 {
                health = try? await UnixHTTPClient.get(socketPath: proxy, path: "/healthz")
                if health != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let errors = (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
            try #require(health?.status == 200, "nginx did not answer: \(errors)")

            let guests = (0..<10).map { "gst-nginx-\($0)-\(UUID().uuidString.prefix(6).lowercased())" }
            for (index, guest) in guests.enumerated() {
                let delivery = LumaDelivery(
                    webhookID: "wh-\(UUID().uuidString)", type: "guest.registered", guestID: guest, eventID: lumaEvent,
                    tickets: 1 + index % 2)
                let response = try await UnixHTTPClient.post(
                    socketPath: proxy, path: "/webhooks/luma", body: delivery.body,
                    headers: delivery.headers(secret: DaemonEndToEndTests.secret))
                #expect(response.status == 202, "\(response)")
            }
            // A forged delivery is refused by the daemon behind the proxy.
            let forged = LumaDelivery(webhookID: "wh-forged", type: "guest.registered", guestID: "gst-forged", eventID: lumaEvent, tickets: 1)
            let refused = try await UnixHTTPClient.post(
                socketPath: proxy, path: "/webhooks/luma", body: forged.body,
                headers: forged.headers(secret: DaemonEndToEndTests.secret, tamper: true))
            #expect(refused.status == 401)
            // The admin API is not behind the proxy.
            #expect(try await UnixHTTPClient.get(socketPath: proxy, path: "/metrics").status == 404)
            #expect(try await UnixHTTPClient.get(socketPath: proxy, path: "/api/events/\(event)").status == 404)

            let postgres = try DaemonEndToEndTests.postgres()
            defer { Task { await postgres.shutdown() } }
            var ledger: [String: Int] = [:]
            for _ in 0..<150 {
                ledger = try await DaemonEndToEndTests.ledgerOrders(postgres, event: event)
                if ledger.count == guests.count { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(ledger == Dictionary(uniqueKeysWithValues: guests.enumerated().map { ($1, 1 + $0 % 2) }))
            #expect(ledger["gst-forged"] == nil)
            let access = (try? String(contentsOfFile: directory + "/access.log", encoding: .utf8)) ?? ""
            #expect(access.contains("POST /webhooks/luma"), "the deliveries went through nginx")
            #expect(await daemon.terminate() == 0)
        }
    }
}
