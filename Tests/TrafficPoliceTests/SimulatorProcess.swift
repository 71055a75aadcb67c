import CurlBridge
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `platform-sim serve` on 127.0.0.1 port 0, run as a child process (this test target does
/// not link the `PlatformSimulator` library), driven through its control API.
final class SimulatorProcess: @unchecked Sendable {
    let process: Process
    let api: String
    let control: String
    let curl = CurlClient()
    private let directory: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The binary beside the test bundle (`.build/debug/platform-sim`), or `$PLATFORM_SIM_BIN`.
    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["PLATFORM_SIM_BIN"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("platform-sim")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw Failure(description: "platform-sim not found near \(CommandLine.arguments[0]); build it or set PLATFORM_SIM_BIN")
    }

    private init(process: Process, api: String, control: String, directory: String) {
        self.process = process
        self.api = api
        self.control = control
        self.directory = directory
    }

    /// Starts the simulator and waits for the line that names its two listeners.
    static func start(seed: UInt64 = 7, within timeout: Duration = .seconds(20)) async throws -> SimulatorProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tp-sim-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let outputPath = directory + "/stdout"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = try binary()
        process.arguments = ["serve", "--api-port", "0", "--control-port", "0", "--seed", String(seed)]
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("\"control\"") }),
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let api = object["api"] as? String, let control = object["control"] as? String
            {
                return SimulatorProcess(process: process, api: api, control: control, directory: directory)
            }
            if !process.isRunning { throw Failure(description: "platform-sim exited: \(text)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(process.processIdentifier, SIGKILL)
        throw Failure(description: "platform-sim did not report its listeners within \(timeout)")
    }

    /// Luma's base URL for the daemon's client.
    var lumaBaseURL: String { api + "/luma" }

    /// A control API call; the answer's JSON object.
    @discardableResult
    func control(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        let response = try await curl.execute(
            HTTPRequest(
                method: method, url: control + path, headers: [(name: "Content-Type", value: "application/json")],
                body: bytes))
        guard (200..<300).contains(response.status) || response.status == 409 else {
            throw Failure(description: "\(method) \(path): \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    /// Sells `quantity` on the Luma event; the guest id and the outcome (`sold` or `waitlisted`).
    func lumaSale(event: String, quantity: Int) async throws -> (guestID: String, saleID: String, outcome: String) {
        let answer = try await control("POST", "/control/sales", ["platform": "luma", "event_id": event, "quantity": quantity])
        let sale = answer["sale"] as? [String: Any]
        let luma = sale?["luma"] as? [String: Any]
        guard let guestID = luma?["guest_id"] as? String, let saleID = sale?["id"] as? String,
            let outcome = answer["outcome"] as? String
        else { throw Failure(description: "unexpected sale answer \(answer)") }
        return (guestID, saleID, outcome)
    }

    /// `GET /control/rate-limited?platform=luma`: the Luma requests answered 429.
    func lumaRateLimited() async throws -> Int {
        ((try await control("GET", "/control/rate-limited?platform=luma"))["rate_limited"] as? [Any])?.count ?? -1
    }

    /// The Luma API requests the simulator served.
    func lumaRequests() async throws -> [[String: Any]] {
        ((try await control("GET", "/control/requests?platform=luma"))["requests"] as? [[String: Any]]) ?? []
    }

    func stop() async {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        await curl.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func with<T>(_ body: (SimulatorProcess) async throws -> T) async throws -> T {
        let simulator = try await start()
        do {
            let result = try await body(simulator)
            await simulator.stop()
            return result
        } catch {
            await simulator.stop()
            throw error
        }
    }
}
