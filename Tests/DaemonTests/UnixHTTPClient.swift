import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A deliberately small HTTP/1.1 client over a Unix socket, for end-to-end tests of the daemon.
/// Each request opens a connection, writes the raw bytes and reads until the server closes or the
/// response is complete. The blocking socket calls run on a thread of their own, never on Swift's
/// cooperative pool.
enum UnixHTTPClient {
    struct Response: Sendable, CustomStringConvertible {
        var status: Int
        var headers: [String: String]
        var body: String
        var description: String { "HTTP \(status) \(body)" }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `request` (raw bytes) and parses the response. Fails after `timeout`.
    /// A `socketPath` of the form `tcp:PORT` connects to 127.0.0.1:PORT instead (for the proxy test).
    static func exchange(socketPath: String, raw request: [UInt8], timeout: Duration = .seconds(10)) async throws
        -> Response
    {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingExchange(socketPath, request, timeout) })
            }
        }
    }

    private static func connectTCP(_ fd: Int32, port: UInt16) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// A POST with a JSON body and extra headers.
    static func post(socketPath: String, path: String, body: String, headers: [(String, String)] = [])
        async throws -> Response
    {
        var head = "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        head += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return try await exchange(socketPath: socketPath, raw: Array(head.utf8) + Array(body.utf8))
    }

    static func get(socketPath: String, path: String) async throws -> Response {
        let head = "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        return try await exchange(socketPath: socketPath, raw: Array(head.utf8))
    }

    private static func blockingExchange(_ path: String, _ request: [UInt8], _ timeout: Duration) throws -> Response {
        let tcpPort = path.hasPrefix("tcp:") ? UInt16(path.dropFirst(4)) : nil
        let fd = socket(tcpPort == nil ? AF_UNIX : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let connected: Int32
        if let tcpPort {
            connected = connectTCP(fd, port: tcpPort)
        } else {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                throw Failure(description: "socket path too long: \(path)")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (index, byte) in bytes.enumerated() { buffer[index] = byte }
            }
            connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        guard connected == 0 else { throw Failure(description: "connect \(path): \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < request.count {
            let sent = request.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + offset }, request.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            offset += sent
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += chunk[0..<count]
                if let response = parse(received) { return response }
            } else if count == 0 {
                break
            } else {
                throw Failure(description: "recv: \(String(cString: strerror(errno)))")
            }
        }
        guard let response = parse(received) else {
            throw Failure(description: "incomplete response: \(String(decoding: received, as: UTF8.self))")
        }
        return response
    }

    /// A complete response (head and Content-Length body), or nil when more bytes are needed.
    private static func parse(_ bytes: [UInt8]) -> Response? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        guard let statusLine = lines.first else { return nil }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = String(text[split.upperBound...])
        if let length = headers["content-length"].flatMap(Int.init), body.utf8.count < length { return nil }
        return Response(status: status, headers: headers, body: body)
    }
}
