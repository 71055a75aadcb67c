import Foundation
import Testing

/// Runs the built `traffic-police` binary and captures what it prints.
struct CLIProcess {
    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
    }

    /// The binary beside the test bundle (`.build/debug/traffic-police`), or `$TRAFFIC_POLICE_BIN`.
    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["TRAFFIC_POLICE_BIN"] {
            return URL(fileURLWithPath: path)
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("traffic-police")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        Issue.record("traffic-police binary not found near \(CommandLine.arguments[0]); build it or set TRAFFIC_POLICE_BIN")
        throw CancellationError()
    }

    /// The environment for a run: the test servers' URLs unless overridden, and no config file.
    static func environment(_ overrides: [String: String?] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["TRAFFIC_POLICE_CONFIG"] = "/dev/null"
        for (key, value) in overrides { environment[key] = value }
        return environment
    }

    /// Runs `traffic-police arguments…`, killing it after `timeout`.
    static func run(_ arguments: [String], environment overrides: [String: String?] = [:], timeout: Duration = .seconds(60))
        async throws -> Result
    {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.environment = environment(overrides)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        // Blocking pipe reads get threads of their own: on Swift's cooperative pool they could
        // starve the tasks that the child is waiting for (a deadlock seen with parallel tests).
        async let outData = readOnThread(out.fileHandleForReading)
        async let errData = readOnThread(err.fileHandleForReading)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                Issue.record("traffic-police \(arguments.joined(separator: " ")) did not finish within \(timeout)")
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: await outData, as: UTF8.self),
            stderr: String(decoding: await errData, as: UTF8.self))
    }

    private static func readOnThread(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: handle.readDataToEndOfFile()) }
        }
    }

    static func requireServers() throws {
        let environment = ProcessInfo.processInfo.environment
        try #require(environment["TRAFFIC_POLICE_REDIS_URL"] != nil, "TRAFFIC_POLICE_REDIS_URL is not set: run scripts/test")
        try #require(environment["TRAFFIC_POLICE_POSTGRES_URL"] != nil, "TRAFFIC_POLICE_POSTGRES_URL is not set: run scripts/test")
    }

    static func uniqueID(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.lowercased().prefix(18))" }
}
