#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Errors from the test helpers, with the failing call and errno.
struct TestSocketError: Error, CustomStringConvertible {
    var description: String

    init(_ call: String, errno code: Int32 = errno) {
        description = "\(call): \(String(cString: strerror(code))) (errno \(code))"
    }

    init(message: String) { description = message }
}

/// Fills a `sockaddr_un` for `path` and calls `body` with it; throws when the path is too long.
func withUnixAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard bytes.count < capacity else { throw TestSocketError(message: "socket path too long: \(path)") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return try withUnsafePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            try body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
}

/// An AF_UNIX SOCK_DGRAM socket bound at a path, for capturing what libsystemd sends.
/// The socket file is unlinked on `close()` / deinit.
final class UnixDatagramSocket {
    let path: String
    private var fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError("socket") }
        let socketFD = fd
        let rc = try withUnixAddress(path) { bind(socketFD, $0, $1) }
        guard rc == 0 else {
            let error = TestSocketError("bind \(path)")
            Glibc.close(socketFD)
            throw error
        }
        var size: Int32 = 4 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close() }

    /// Closes the socket and removes its file (idempotent).
    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
        unlink(path)
    }

    /// The next datagram, or nil when none arrives within `timeout`.
    func receive(timeout: Duration = .seconds(2)) throws -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&poller, 1, milliseconds)
        guard ready >= 0 else { throw TestSocketError("poll") }
        guard ready > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count >= 0 else { throw TestSocketError("recv") }
        return Array(buffer[..<count])
    }
}

/// Sets (or, for nil, unsets) environment variables around `body`, restoring the old values.
@discardableResult
func withEnvironment<T>(_ changes: [String: String?], _ body: () throws -> T) rethrows -> T {
    var saved: [String: String?] = [:]
    for (name, value) in changes {
        saved[name] = getenv(name).map { String(cString: $0) }
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }
    defer {
        for (name, value) in saved {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
    }
    return try body()
}

/// A fresh path under /tmp for a test socket.
func temporarySocketPath(_ tag: String) -> String {
    "/tmp/tp-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
}
