import NIOCore
import NIOHTTP1

/// One fully received HTTP request, as a route handler sees it.
public struct ServerRequest: Sendable {
    /// The request line and headers.
    public var head: HTTPRequestHead
    /// The path without the query string.
    public var path: String
    /// The path segment a route captured (`/api/events/{id}` → the id), if its pattern has one.
    public var parameter: String?
    /// The raw body bytes, exactly as received.
    public var body: ByteBuffer

    public init(head: HTTPRequestHead, path: String, parameter: String?, body: ByteBuffer) {
        self.head = head
        self.path = path
        self.parameter = parameter
        self.body = body
    }

    /// The body as bytes (copied out of the buffer).
    public var bodyBytes: [UInt8] { Array(body.readableBytesView) }

    /// The first value of a header (names are case-insensitive).
    public func header(_ name: String) -> String? { head.headers.first(name: name) }
}

extension HTTPRequestHead {
    /// The URI's path, without query string or fragment.
    var path: String {
        let uri = self.uri
        if let end = uri.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            return String(uri[..<end])
        }
        return uri
    }

    /// Whether a body follows the head (a positive Content-Length, or a chunked transfer coding).
    var announcesBody: Bool {
        if headers.contains(name: "transfer-encoding") { return true }
        guard let length = declaredContentLength else { return false }
        return length != 0
    }

    /// The Content-Length header as a number; nil when absent. A malformed value never reaches
    /// here (the decoder rejects it), but is treated as absent if it does.
    var declaredContentLength: Int? {
        headers.first(name: "content-length").flatMap { Int($0.trimmingASCIISpaces) }
    }

    /// Whether the client asked for `100 Continue` before sending the body.
    var expectsContinue: Bool {
        headers.first(name: "expect")?.lowercased().trimmingASCIISpaces == "100-continue"
    }
}

extension StringProtocol {
    var trimmingASCIISpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
