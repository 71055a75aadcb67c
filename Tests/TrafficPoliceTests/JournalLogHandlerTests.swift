import Foundation
import Logging
import Testing
@testable import TrafficPolice

#if canImport(Glibc)
import Glibc
#endif

@Suite("JournalLogHandler", .timeLimit(.minutes(1)))
struct JournalLogHandlerTests {
    /// The handler's datagrams, captured on journald's socket path. The child process (an exit test)
    /// mounts a private tmpfs on /run first, so the capture never meets a live journald nor the
    /// SystemdBridge tests that bind the same path in the shared test process.
    @Test func entriesReachJournaldWithStructuredFields() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            exit(journalCaptureChild())
        }
        let output = result.map { String(decoding: $0.standardOutputContent, as: UTF8.self) } ?? ""
        let entries = output.components(separatedBy: "---\n").filter { !$0.isEmpty }.map { entry in
            Dictionary(
                entry.split(separator: "\n").compactMap { line -> (String, String)? in
                    guard let equals = line.firstIndex(of: "=") else { return nil }
                    return (String(line[..<equals]), String(line[line.index(after: equals)...]))
                }, uniquingKeysWith: { first, _ in first })
        }
        try #require(entries.count == 2, "child output: \(output)")
        let first = entries[0]
        #expect(first["MESSAGE"] == "order accepted")
        #expect(first["PRIORITY"] == "4")
        #expect(first["SYSLOG_IDENTIFIER"] == "traffic-police")
        #expect(first["CODE_FILE"]?.hasSuffix("JournalLogHandlerTests.swift") == true)
        #expect(first["CODE_LINE"].flatMap(Int.init) != nil)
        #expect(first["CODE_FUNC"]?.contains("journalCaptureChild") == true)
        #expect(first["LOGGER"] == "tp.test")
        #expect(first["EVENT_ID"] == "42")
        #expect(first["PLATFORM"] == "luma")
        #expect(first["ORDER_ID"] == "gst-1")
        #expect(first["MODE"] == "open")
        #expect(first["RETRY_COUNT"] == "2")
        #expect(first["META_MESSAGE"] == "shadow")
        let second = entries[1]
        #expect(second["MESSAGE"] == "two\\nlines")
        #expect(second["PRIORITY"] == "7")
        #expect(second["ERROR"] == "ConfigurationError(key: \"x\", reason: \"y\")" || second["ERROR"] == "config key x: y")
    }

    /// Plain lines on fd 2 when journald is not there.
    @Test func stderrHandlerWritesOneLinePerEntry() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            var logger = Logger(label: "tp.stderr") { StderrLogHandler(label: $0, level: .info) }
            logger[metadataKey: "mode"] = "failsafe"
            logger.info("spool\nreplayed", metadata: ["event_id": "7"])
            logger.debug("not shown")
            exit(0)
        }
        let output = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        let lines = output.split(separator: "\n").filter { $0.contains("tp.stderr") }
        try #require(lines.count == 1, "stderr: \(output)")
        #expect(lines[0].hasSuffix("info tp.stderr: spool\\nreplayed event_id=7 mode=failsafe"))
        #expect(lines[0].first?.isNumber == true)  // timestamp first
    }

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func priorities(level: Logger.Level, priority: Int) {
        #expect(JournalFields.priority(level) == priority)
    }

    @Test func metadataKeysBecomeFieldNames() {
        #expect(JournalFields.name(forMetadataKey: "event_id") == "EVENT_ID")
        #expect(JournalFields.name(forMetadataKey: "platform") == "PLATFORM")
        #expect(JournalFields.name(forMetadataKey: "order_id") == "ORDER_ID")
        #expect(JournalFields.name(forMetadataKey: "mode") == "MODE")
        #expect(JournalFields.name(forMetadataKey: "jobID") == "JOBID")
        #expect(JournalFields.name(forMetadataKey: "priority") == "META_PRIORITY")
        #expect(JournalFields.name(forMetadataKey: "_private") == "PRIVATE")
    }

    @Test func fieldsAreStableAndComplete() {
        let event = LogEvent(
            level: .notice, message: "hello", metadata: nil, source: nil, file: "F.swift", function: "f()", line: 9)
        let fields = JournalFields.fields(
            event: event, label: "l", metadata: ["b": "2", "a": .array(["x", "y"]), "message": "m"])
        #expect(fields.map(\.name) == [
            "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "LOGGER", "A", "B",
            "META_MESSAGE",
        ])
        #expect(fields.first { $0.name == "CODE_LINE" }?.value == "9")
        #expect(fields.first { $0.name == "A" }?.value == #"["x", "y"]"#)
    }

    @Test func bootstrapChoosesTheHandler() {
        let journal = LoggingBootstrap.factory(level: .debug, journal: true)("x")
        let plain = LoggingBootstrap.factory(level: .error, journal: false)("x")
        #expect(journal is JournalLogHandler)
        #expect(journal.logLevel == .debug)
        #expect(plain is StderrLogHandler)
        #expect(plain.logLevel == .error)
    }

    @Test func stderrLineFormat() {
        let event = LogEvent(
            level: .warning, message: "a\r\nb", error: ConfigurationError(key: "k", reason: "r"), metadata: nil,
            source: nil, file: "F.swift", function: "f()", line: 1)
        let line = StderrLogHandler.line(event: event, label: "tp", metadata: ["z": "1"], timestamp: nil)
        #expect(line == "warning tp: a\\r\\nb z=1 error=config key k: r\n")
        #expect(StderrLogHandler.currentTimestamp().count == "2025-01-31T12:00:00.123Z".count)
    }
}

/// The child side of `entriesReachJournaldWithStructuredFields`: a private mount namespace with a
/// tmpfs on /run, our socket at /run/systemd/journal/socket, two entries logged. Prints each
/// entry's fields as NAME=value lines (newlines in values as \n) followed by "---". Everything
/// runs on this one thread: the mount namespace belongs to the thread that unshared it.
private func journalCaptureChild() -> Int32 {
    // unshare(2) is not in Swift's Glibc module (it needs _GNU_SOURCE): look it up.
    typealias Unshare = @convention(c) (Int32) -> Int32
    let cloneNewNS: Int32 = 0x0002_0000
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "unshare") else {
        print("unshare not found")
        return 2
    }
    let unshare = unsafeBitCast(symbol, to: Unshare.self)
    guard unshare(cloneNewNS) == 0 else {
        print("unshare: errno \(errno)")
        return 2
    }
    guard mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0,
        mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") == 0,
        mkdir("/run/systemd", 0o755) == 0, mkdir("/run/systemd/journal", 0o755) == 0
    else {
        print("mount: errno \(errno)")
        return 2
    }
    let capture: DatagramCapture
    do {
        capture = try DatagramCapture(path: "/run/systemd/journal/socket")
    } catch {
        print("\(error)")
        return 2
    }
    var logger = Logger(label: "tp.test") { JournalLogHandler(label: $0, level: .trace) }
    logger[metadataKey: "mode"] = "open"
    logger.warning(
        "order accepted",
        metadata: ["event_id": "42", "platform": "luma", "order_id": "gst-1", "retry-count": "2", "message": "shadow"])
    logger.debug("two\nlines", error: ConfigurationError(key: "x", reason: "y"))
    for _ in 0..<2 {
        do {
            guard let datagram = try capture.receive() else {
                print("no datagram")
                return 3
            }
            for field in try parseJournalDatagram(datagram) {
                print("\(field.name)=\(field.value.replacingOccurrences(of: "\n", with: "\\n"))")
            }
            print("---")
        } catch {
            print("\(error)")
            return 3
        }
    }
    return 0
}
