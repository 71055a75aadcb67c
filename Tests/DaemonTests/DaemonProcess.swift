import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `traffic-police serve`, run as a child process the way systemd would run it
/// (NOTIFY_SOCKET, a state directory, sockets in a runtime directory), for end-to-end tests.
final class DaemonProcess: @unchecked Sendable {
    let directory: String
    let notify: NotifyListener
    let environment: [String: String]
    private(set) var process: Process?
    private var stderrFile: URL { URL(fileURLWithPath: directory + "/daemon.stderr") }

    var webhookSocket: String { directory + "/webhook.sock" }
    var adminSocket: String { directory + "/admin.sock" }

    /// `overrides` are added to the environment (credentials, config keys).
    init(overrides: [String: String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tp-daemon-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        notify = try NotifyListener(directory: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["TRAFFIC_POLICE_CONFIG"] = "/dev/null"
        environment["TRAFFIC_POLICE_INTAKE_SOCKET"] = directory + "/webhook.sock"
        environment["TRAFFIC_POLICE_ADMIN_SOCKET"] = directory + "/admin.sock"
        environment["STATE_DIRECTORY"] = directory + "/state"
        environment["NOTIFY_SOCKET"] = notify.path
        // Other suites in this process set systemd variables while they run: never inherit them.
        for name in ["JOURNAL_STREAM", "WATCHDOG_PID", "WATCHDOG_USEC", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
            environment.removeValue(forKey: name)
        }
        for (key, value) in overrides { environment[key] = value }
        self.environment = environment
    }

    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["TRAFFIC_POLICE_BIN"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("traffic-police")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw UnixHTTPClient.Failure(description: "traffic-police binary not found near \(CommandLine.arguments[0])")
    }

    /// Starts `traffic-police serve` and waits for READY=1.
    func start(readyWithin timeout: Duration = .seconds(30)) async throws {
        let process = Process()
        process.executableURL = try Self.binary()
        process.arguments = ["serve"]
        process.environment = environment
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: stderrFile)
        output.seekToEndOfFile()
        process.standardError = output
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        let readyBefore = notify.received.filter { $0.contains("READY=1") }.count
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if notify.received.filter({ $0.contains("READY=1") }).count > readyBefore { return }
            if !process.isRunning {
                throw UnixHTTPClient.Failure(description: "daemon exited \(process.terminationStatus) before READY: \(log())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw UnixHTTPClient.Failure(description: "daemon not READY within \(timeout): \(log())")
    }

    /// SIGKILL, as `kill -9`.
    func kill9() async {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        _ = await waitForExit(within: .seconds(10))
    }

    /// SIGTERM, then the exit status (nil if it did not exit in time; then it is killed).
    func terminate(within timeout: Duration = .seconds(20)) async -> Int32? {
        guard let process, process.isRunning else { return self.process?.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let status = await waitForExit(within: timeout)
        if status == nil { kill(process.processIdentifier, SIGKILL) }
        return status
    }

    private func waitForExit(within timeout: Duration) async -> Int32? {
        guard let process else { return nil }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    func log() -> String {
        (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
    }

    func cleanUp() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        notify.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
