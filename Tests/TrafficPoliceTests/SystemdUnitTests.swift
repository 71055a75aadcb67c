import Foundation
import Testing

/// The unit files in systemd/ pass `systemd-analyze verify` and score ≤ 2.0 in
/// `systemd-analyze security --offline=true`. Needs Debian's `systemd` package (scripts/test
/// installs it); without `systemd-analyze` the tests fail with a clear message, they never skip.
///
/// verify checks that ExecStart= names an existing executable, and /usr/bin/traffic-police is not
/// installed here: the units are verified as copies in a temporary directory whose ExecStart=
/// points at the built `traffic-police` binary (beside this test bundle), everything else unchanged.
@Suite("systemd unit files", .timeLimit(.minutes(1)))
struct SystemdUnitTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let unitNames = [
        "traffic-police.service", "traffic-police.socket", "traffic-police-admin.socket",
        "traffic-police-reconcile.service", "traffic-police-reconcile.timer",
    ]

    @Test func unitsVerify() throws {
        let directory = try unitCopies()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try analyze(["verify", "--man=no"] + Self.unitNames.map { directory.appendingPathComponent($0).path })
        #expect(result.status == 0, "systemd-analyze verify failed:\n\(result.output)")
        // verify reports most problems as warnings with status 0: any line naming our files is one.
        let complaints = result.output.split(separator: "\n").filter { $0.contains(directory.path) }
        #expect(complaints.isEmpty, "systemd-analyze verify complained:\n\(complaints.joined(separator: "\n"))")
    }

    @Test(arguments: ["traffic-police.service", "traffic-police-reconcile.service"])
    func serviceExposureIsAtMostTwo(service: String) throws {
        let directory = try unitCopies()
        defer { try? FileManager.default.removeItem(at: directory) }
        let unit = directory.appendingPathComponent(service).path
        let result = try analyze(["security", "--offline=true", "--no-pager", unit])
        let line = result.output.split(separator: "\n").first { $0.contains("Overall exposure level") }
        let score = line.flatMap { text in
            text.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        }
        print("systemd-analyze security: \(line.map(String.init) ?? "no score line")")
        let exposure = try #require(score, "no exposure score in:\n\(result.output)")
        #expect(exposure <= 2.0, "exposure \(exposure) > 2.0:\n\(result.output)")
    }

    @Test func sysusersAndTmpfilesEntriesParse() throws {
        let sysusers = try String(contentsOf: Self.repository.appendingPathComponent("systemd/traffic-police.sysusers"), encoding: .utf8)
        let tmpfiles = try String(contentsOf: Self.repository.appendingPathComponent("systemd/traffic-police.tmpfiles"), encoding: .utf8)
        func entries(_ text: String) -> [[Substring]] {
            text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        }
        #expect(entries(sysusers).contains { $0.count >= 2 && $0[0] == "u" && $0[1] == "traffic-police" })
        #expect(entries(tmpfiles).allSatisfy { $0.count == 6 && $0[0] == "d" && $0[1].hasPrefix("/") })
        let service = try String(contentsOf: Self.repository.appendingPathComponent("systemd/traffic-police.service"), encoding: .utf8)
        for name in ["eventbrite-token", "luma-api-key", "luma-webhook-secret", "meetup-token"] {
            #expect(service.contains("LoadCredential=\(name):/etc/traffic-police/credentials/\(name)\n"))
            #expect(service.contains("SetCredential=\(name):\\n\n"))
        }
        let names = try Self.unitNames.dropFirst().map {
            try String(contentsOf: Self.repository.appendingPathComponent("systemd/\($0)"), encoding: .utf8)
        }
        #expect(names[0].contains("FileDescriptorName=webhook\n") && names[0].contains("ListenStream=/run/traffic-police/webhook.sock\n"))
        #expect(names[1].contains("FileDescriptorName=admin\n") && names[1].contains("ListenStream=/run/traffic-police/admin.sock\n"))
    }

    /// The nightly reconciliation: a oneshot running `traffic-police reconcile` as the daemon's user,
    /// with the daemon's credentials and hardening, started by a persistent nightly timer.
    @Test func reconcileUnitsMatchTheDaemonsAndRunNightly() throws {
        func unit(_ name: String) throws -> [String] {
            try String(contentsOf: Self.repository.appendingPathComponent("systemd/\(name)"), encoding: .utf8)
                .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        }
        let daemon = try unit("traffic-police.service")
        let reconcile = try unit("traffic-police-reconcile.service")
        #expect(reconcile.contains("Type=oneshot") && reconcile.contains("ExecStart=/usr/bin/traffic-police reconcile"))
        #expect(reconcile.contains("RestartPreventExitStatus=1 3 64 78"))
        let shared = ["User=", "Group=", "LoadCredential=", "SetCredential=", "UMask="]
        let hardening = daemon.drop { $0 != "NoNewPrivileges=yes" }.prefix { !$0.hasPrefix("[") }
        #expect(!hardening.isEmpty)
        for line in daemon.filter({ line in shared.contains { line.hasPrefix($0) } }) + hardening {
            #expect(reconcile.contains(line), "traffic-police-reconcile.service lacks \(line)")
        }
        let timer = try unit("traffic-police-reconcile.timer")
        for line in ["OnCalendar=*-*-* 03:30:00", "Persistent=true", "RandomizedDelaySec=30min", "WantedBy=timers.target"] {
            #expect(timer.contains(line), "traffic-police-reconcile.timer lacks \(line)")
        }
    }

    /// The units copied to a fresh directory, ExecStart= pointing at the built binary.
    private func unitCopies() throws -> URL {
        let binary = try builtBinary()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tp-units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in Self.unitNames {
            var text = try String(contentsOf: Self.repository.appendingPathComponent("systemd/\(name)"), encoding: .utf8)
            text = text.replacingOccurrences(of: "ExecStart=/usr/bin/traffic-police ", with: "ExecStart=\(binary) ")
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory
    }

    /// `traffic-police` next to the test bundle (`swift build --build-tests` builds it).
    private func builtBinary() throws -> String {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("traffic-police").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            if directory.lastPathComponent == ".build" { break }
            directory.deleteLastPathComponent()
        }
        throw UnitTestError(description: "no built traffic-police binary near \(executable): run `swift build --build-tests` first")
    }

    /// Runs systemd-analyze with `arguments`; stdout and stderr together.
    private func analyze(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let tool = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tool else {
            throw UnitTestError(description: "systemd-analyze is missing: apt-get install -y systemd (scripts/test installs it)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SYSTEMD_LOG_COLOR"] = "0"
        environment["SYSTEMD_COLORS"] = "0"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

private struct UnitTestError: Error, CustomStringConvertible {
    var description: String
}
