import Foundation
import NIOCore
import NIOHTTP1

/// An HTTP response a route handler returns. Content-Length and Connection are set when it is written.
public struct ServerResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// When set, `body` is ignored and the body is streamed instead: the head goes out without a
    /// Content-Length (chunked), each chunk is written and flushed as it comes, and the connection
    /// closes when the stream finishes. The stream is cancelled when the client goes away or the
    /// server shuts down (e.g. Server-Sent Events).
    public var stream: AsyncStream<ByteBuffer>?

    public init(
        status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer(),
        stream: AsyncStream<ByteBuffer>? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream
    }

    /// A streamed response: see ``stream``.
    public static func streaming(
        _ status: HTTPResponseStatus, contentType: String, headers: HTTPHeaders = [:], _ chunks: AsyncStream<ByteBuffer>
    ) -> ServerResponse {
        var headers = headers
        headers.replaceOrAdd(name: "content-type", value: contentType)
        return ServerResponse(status: status, headers: headers, stream: chunks)
    }

    /// A JSON response from an `Encodable` value (keys sorted, so output is stable).
    public static func json(_ status: HTTPResponseStatus, _ value: some Encodable, headers: HTTPHeaders = [:])
        -> ServerResponse
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else {
            return .error(.internalServerError, "encoding_failed", "the response could not be encoded")
        }
        return .jsonBytes(status, Array(data), headers: headers)
    }

    /// The JSON error body every non-2xx answer carries: `{"error": code, "message": text}`.
    public static func error(
        _ status: HTTPResponseStatus, _ code: String, _ message: String, headers: HTTPHeaders = [:]
    ) -> ServerResponse {
        json(status, ErrorBody(error: code, message: message), headers: headers)
    }

    /// 503 with `Retry-After`.
    public static func unavailable(_ code: String, _ message: String, retryAfterSeconds: Int) -> ServerResponse {
        var headers = HTTPHeaders()
        headers.add(name: "retry-after", value: String(max(retryAfterSeconds, 0)))
        return .error(.serviceUnavailable, code, message, headers: headers)
    }

    /// A plain-text response (used by `/metrics`).
    public static func text(_ status: HTTPResponseStatus, _ bytes: [UInt8], contentType: String) -> ServerResponse {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        return ServerResponse(status: status, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    private static func jsonBytes(_ status: HTTPResponseStatus, _ bytes: [UInt8], headers: HTTPHeaders)
        -> ServerResponse
    {
        var headers = headers
        headers.replaceOrAdd(name: "content-type", value: "application/json")
        return ServerResponse(status: status, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    /// `{"status": text}` with a 2xx status.
    public static func status(_ status: HTTPResponseStatus, _ text: String) -> ServerResponse {
        json(status, ["status": text])
    }

    /// The raw bytes of a complete response, for the rare places that write before (or without)
    /// the HTTP encoder: the connection-limit refusal and the read timeout. Always `Connection: close`.
    func serialized() -> ByteBuffer {
        var text = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        for (name, value) in headers where name.lowercased() != "content-length" && name.lowercased() != "connection" {
            text += "\(name): \(value)\r\n"
        }
        text += "content-length: \(body.readableBytes)\r\nconnection: close\r\n\r\n"
        var buffer = ByteBuffer(string: text)
        var body = self.body
        buffer.writeBuffer(&body)
        return buffer
    }
}

/// The JSON body of every error answer.
public struct ErrorBody: Codable, Sendable, Hashable {
    public var error: String
    public var message: String

    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}
