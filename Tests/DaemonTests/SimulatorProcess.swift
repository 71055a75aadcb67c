import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The built `platform-sim` running as its own process on loopback, driven through its control API.
final class SimulatorProcess: @unchecked Sendable {
    private let process = Process()
    private let output: URL
    /// The API root, e.g. `http://127.0.0.1:41000`.
    private(set) var api = ""
    private(set) var controlPort = 0

    var eventbriteBase: String { api + "/eventbrite/v3" }
    var lumaBase: String { api + "/luma" }
    var meetupBase: String { api + "/meetup/gql-ext" }

    /// The daemon environment that points it at this simulator with the simulator's default credentials.
    func daemonEnvironment(lumaSecret: String = "whsec_test") -> [String: String] {
        [
            "TRAFFIC_POLICE_PLATFORMS_EVENTBRITE_BASE_URL": eventbriteBase,
            "TRAFFIC_POLICE_PLATFORMS_LUMA_BASE_URL": lumaBase,
            "TRAFFIC_POLICE_PLATFORMS_MEETUP_BASE_URL": meetupBase,
            "TRAFFIC_POLICE_CREDENTIAL_EVENTBRITE_TOKEN": "eb-token",
            "TRAFFIC_POLICE_CREDENTIAL_LUMA_API_KEY": "luma-key",
            "TRAFFIC_POLICE_CREDENTIAL_LUMA_WEBHOOK_SECRET": lumaSecret,
            "TRAFFIC_POLICE_CREDENTIAL_MEETUP_TOKEN": "meetup-token",
        ]
    }

    init(seed: UInt64 = 11) throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("tp-sim-\(UUID().uuidString.prefix(8)).out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = try Self.binary()
        process.arguments = ["serve", "--api-port", "0", "--control-port", "0", "--seed", String(seed)]
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
    }

    static func binary() throws -> URL {
        try DaemonProcess.binary().deletingLastPathComponent().appendingPathComponent("platform-sim")
    }

    /// Starts the simulator and waits for its `{"api":…,"control":…}` line.
    func start(within timeout: Duration = .seconds(20)) async throws {
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("{\"api\"") }),
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
                let api = object["api"], let control = object["control"],
                let port = control.split(separator: ":").last.flatMap({ Int($0) })
            {
                self.api = api
                self.controlPort = port
                return
            }
            guard process.isRunning else { throw UnixHTTPClient.Failure(description: "platform-sim exited: \(text)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw UnixHTTPClient.Failure(description: "platform-sim did not start")
    }

    /// Calls the control API (`GET` without a body, else `POST`); returns the decoded JSON.
    @discardableResult
    func control(_ path: String, _ body: [String: Any]? = nil) async throws -> (status: Int, json: Any?) {
        let response: UnixHTTPClient.Response
        if let body {
            let text = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            response = try await UnixHTTPClient.post(socketPath: "tcp:\(controlPort)", path: path, body: text)
        } else {
            response = try await UnixHTTPClient.get(socketPath: "tcp:\(controlPort)", path: path)
        }
        return (response.status, try? JSONSerialization.jsonObject(with: Data(response.body.utf8)))
    }

    /// SIGTERM; the exit is awaited on a thread of its own (never on Swift's cooperative pool), which
    /// then removes the output file.
    func stop() {
        let process = self.process
        let output = self.output
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        Thread.detachNewThread {
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: output)
        }
    }
}
