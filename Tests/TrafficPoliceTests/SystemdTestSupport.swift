import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An error from the systemd test helpers, with the failing call and errno.
struct SystemdTestError: Error, CustomStringConvertible {
    var description: String
    init(_ call: String, errno code: Int32 = errno) { description = "\(call): \(String(cString: strerror(code)))" }
    init(message: String) { description = message }
}

/// An AF_UNIX SOCK_DGRAM socket bound at `path`, capturing what libsystemd sends (sd_notify to
/// NOTIFY_SOCKET, sd_journal_sendv to /run/systemd/journal/socket). Unlinks its file on close.
final class DatagramCapture: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var closed = false

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemdTestError("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            throw SystemdTestError(message: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let socketFD = fd
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let error = SystemdTestError("bind \(path)")
            Glibc.close(socketFD)
            throw error
        }
        var size: Int32 = 4 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close() }

    func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            Glibc.close(fd)
            unlink(path)
        }
    }

    /// The next datagram, or nil when none arrives within `timeout`.
    func receive(timeout: Duration = .seconds(2)) throws -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&poller, 1, milliseconds)
        guard ready >= 0 else { throw SystemdTestError("poll") }
        guard ready > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count >= 0 else { throw SystemdTestError("recv") }
        return Array(buffer[..<count])
    }

    /// The next datagram as text, waiting without blocking a cooperative thread.
    func next(timeout: Duration = .seconds(2)) async throws -> String? {
        let end = ContinuousClock.now + timeout
        while true {
            if let text = try receiveText(timeout: .zero) { return text }
            guard ContinuousClock.now < end else { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Every datagram that arrives within `duration`, as text.
    func collect(for duration: Duration) async throws -> [String] {
        let end = ContinuousClock.now + duration
        var texts: [String] = []
        while case let left = ContinuousClock.now.duration(to: end), left > .zero {
            guard let text = try await next(timeout: left) else { break }
            texts.append(text)
        }
        return texts
    }

    /// The next datagram as text.
    func receiveText(timeout: Duration = .seconds(2)) throws -> String? {
        try receive(timeout: timeout).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A fresh path under /tmp for a test socket.
func temporaryNotifySocketPath(_ tag: String) -> String {
    "/tmp/tp-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
}

/// Parses journald's native protocol: "NAME=value\n", or "NAME\n" + 64-bit LE length + value + "\n".
func parseJournalDatagram(_ bytes: [UInt8]) throws -> [(name: String, value: String)] {
    var fields: [(name: String, value: String)] = []
    var index = 0
    while index < bytes.count {
        guard let end = bytes[index...].firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == 10 }) else {
            throw SystemdTestError(message: "truncated field at \(index)")
        }
        let name = String(decoding: bytes[index..<end], as: UTF8.self)
        if bytes[end] == UInt8(ascii: "=") {
            guard let newline = bytes[end...].firstIndex(of: 10) else {
                throw SystemdTestError(message: "unterminated value for \(name)")
            }
            fields.append((name, String(decoding: bytes[(end + 1)..<newline], as: UTF8.self)))
            index = newline + 1
        } else {
            guard end + 9 <= bytes.count else { throw SystemdTestError(message: "missing length for \(name)") }
            let length = bytes[(end + 1)..<(end + 9)].reversed().reduce(0) { $0 << 8 | Int($1) }
            let start = end + 9
            guard length >= 0, start + length < bytes.count, bytes[start + length] == 10 else {
                throw SystemdTestError(message: "bad binary value for \(name)")
            }
            fields.append((name, String(decoding: bytes[start..<(start + length)], as: UTF8.self)))
            index = start + length + 1
        }
    }
    return fields
}
