import SystemdBridge
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Journal.fieldName")
struct JournalFieldNameTests {
    @Test(arguments: [
        ("event_id", "EVENT_ID"),
        ("order-id", "ORDER_ID"),
        ("MESSAGE", "MESSAGE"),
        ("camelCase", "CAMELCASE"),
        ("_private", "PRIVATE"),
        ("__x.y", "X_Y"),
        ("-leading", "LEADING"),
        ("9lives", "F_9LIVES"),
        ("_1st", "F_1ST"),
        ("", "FIELD"),
        ("___", "FIELD"),
        ("ünïcode key", "N_CODE_KEY"),
    ])
    func normalises(key: String, expected: String) {
        #expect(Journal.fieldName(key) == expected)
        #expect(Journal.isValidFieldName(Journal.fieldName(key)))
    }

    @Test func truncatesTo64() {
        let name = Journal.fieldName(String(repeating: "a", count: 100))
        #expect(name == String(repeating: "A", count: 64))
    }

    @Test func validity() {
        #expect(Journal.isValidFieldName("ORDER_ID"))
        #expect(!Journal.isValidFieldName("order_id"))
        #expect(!Journal.isValidFieldName("_PID"))
        #expect(!Journal.isValidFieldName("1ABC"))
        #expect(!Journal.isValidFieldName(""))
        #expect(throws: SystemdError.self) { try Journal.send([(name: "bad name", value: "x")]) }
    }
}

extension SystemdEnvironmentTests {
    @Suite("Journal")
    struct JournalTests {
        @Test func isConnectedMatchesStderrDeviceAndInode() throws {
            var info = stat()
            try #require(fstat(2, &info) == 0)
            withEnvironment(["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"]) {
                #expect(Journal.isConnected)
            }
            withEnvironment(["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino &+ 1)"]) {
                #expect(!Journal.isConnected)
            }
            withEnvironment(["JOURNAL_STREAM": "garbage"]) {
                #expect(!Journal.isConnected)
            }
            withEnvironment(["JOURNAL_STREAM": nil]) {
                #expect(!Journal.isConnected)
            }
        }

        /// Binds our own datagram socket at journald's path (we run as root and journald is absent
        /// here), sends, and parses the native-protocol datagram. Refuses to touch a live socket.
        @Test func sendIsCapturedOnTheJournalSocket() throws {
            let directory = "/run/systemd/journal"
            let path = directory + "/socket"
            try #require(try journalPathIsFree(path), "\(path) is in use; not disturbing a live journald")
            var createdDirectory = false
            if access(directory, F_OK) != 0 {
                try #require(mkdir(directory, 0o755) == 0, "mkdir \(directory) failed (errno \(errno))")
                createdDirectory = true
            }
            defer { if createdDirectory { rmdir(directory) } }
            let socket = try UnixDatagramSocket(path: path)
            defer { socket.close() }

            try Journal.send([
                (name: "MESSAGE", value: "order 42 accepted"),
                (name: "PRIORITY", value: "5"),
                (name: "DETAILS", value: "line one\nline two\n"),
                (name: "ORDER_ID", value: "42"),
            ])
            let fields = try parseJournalDatagram(try #require(try socket.receive()))
            #expect(fields.first { $0.name == "MESSAGE" }?.value == "order 42 accepted")
            #expect(fields.first { $0.name == "PRIORITY" }?.value == "5")
            #expect(fields.first { $0.name == "DETAILS" }?.value == "line one\nline two\n")
            #expect(fields.first { $0.name == "ORDER_ID" }?.value == "42")
            // libsystemd adds SYSLOG_IDENTIFIER (the program name) when the caller gives none.
            #expect(fields.map(\.name).sorted() == ["DETAILS", "MESSAGE", "ORDER_ID", "PRIORITY", "SYSLOG_IDENTIFIER"])

            try Journal.send(
                "multi\nline message", priority: 3,
                fields: [(name: "event-id", value: "e1"), (name: "syslog_identifier", value: "tp-test")])
            let second = try parseJournalDatagram(try #require(try socket.receive()))
            #expect(second.first { $0.name == "MESSAGE" }?.value == "multi\nline message")
            #expect(second.first { $0.name == "PRIORITY" }?.value == "3")
            #expect(second.first { $0.name == "EVENT_ID" }?.value == "e1")
            #expect(second.filter { $0.name == "SYSLOG_IDENTIFIER" }.map(\.value) == ["tp-test"])
        }
    }
}

/// True when nothing is at `path`, or only a stale socket file (which is removed). False when a
/// live socket answers there; throws when something that is not a socket is there.
private func journalPathIsFree(_ path: String) throws -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0 else { return true }
    guard info.st_mode & S_IFMT == S_IFSOCK else {
        throw TestSocketError(message: "\(path) exists and is not a socket; not touching it")
    }
    let probe = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard probe >= 0 else { throw TestSocketError("socket") }
    defer { close(probe) }
    let rc = try withUnixAddress(path) { connect(probe, $0, $1) }
    let code = errno
    guard rc != 0, code == ECONNREFUSED else { return false }
    unlink(path)
    return true
}

/// Parses journald's native protocol: "NAME=value\n", or "NAME\n" + 64-bit LE length + value + "\n".
private func parseJournalDatagram(_ bytes: [UInt8]) throws -> [(name: String, value: String)] {
    var fields: [(name: String, value: String)] = []
    var index = 0
    while index < bytes.count {
        guard let end = bytes[index...].firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == 10 }) else {
            throw TestSocketError(message: "truncated field at \(index)")
        }
        let name = String(decoding: bytes[index..<end], as: UTF8.self)
        if bytes[end] == UInt8(ascii: "=") {
            guard let newline = bytes[end...].firstIndex(of: 10) else {
                throw TestSocketError(message: "unterminated value for \(name)")
            }
            fields.append((name, String(decoding: bytes[(end + 1)..<newline], as: UTF8.self)))
            index = newline + 1
        } else {
            guard end + 9 <= bytes.count else { throw TestSocketError(message: "missing length for \(name)") }
            let length = bytes[(end + 1)..<(end + 9)].reversed().reduce(0) { $0 << 8 | Int($1) }
            let start = end + 9
            guard length >= 0, start + length < bytes.count, bytes[start + length] == 10 else {
                throw TestSocketError(message: "bad binary value for \(name)")
            }
            fields.append((name, String(decoding: bytes[start..<(start + length)], as: UTF8.self)))
            index = start + length + 1
        }
    }
    return fields
}
