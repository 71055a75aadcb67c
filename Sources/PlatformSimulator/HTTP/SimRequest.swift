import Foundation

/// One complete HTTP request as the simulator's handlers see it.
public struct SimRequest: Sendable {
    public var method: String
    /// The request target as sent (path and query).
    public var uri: String
    /// The path without the query, e.g. `/eventbrite/v3/orders/1/`.
    public var path: String
    /// Query parameters, percent-decoded; a repeated name keeps its first value.
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, uri: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method.uppercased()
        self.uri = uri
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = parts.first.map(String.init) ?? uri
        query = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = SimRequest.decode(kv[0])
                let value = kv.count > 1 ? SimRequest.decode(kv[1]) : ""
                if query[name] == nil { query[name] = value }
            }
        }
        var lowered: [String: String] = [:]
        for (name, value) in headers where lowered[name.lowercased()] == nil { lowered[name.lowercased()] = value }
        self.headers = lowered
        self.body = body
    }

    /// Decodes `%XX` escapes and `+` (space) of a query component.
    static func decode(_ component: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(component.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The body as JSON, nil when it is empty or not JSON.
    public var json: JSON? { body.isEmpty ? nil : JSON.parse(body) }

    /// The token of `Authorization: Bearer <token>` (scheme case-insensitive); nil without one.
    public var bearerToken: String? {
        guard let value = headers["authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }
}

/// One complete HTTP response.
public struct SimResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ status: Int, _ value: JSON, headers: [(String, String)] = []) -> SimResponse {
        SimResponse(
            status: status, headers: [("Content-Type", "application/json")] + headers, body: value.serialized())
    }

    /// The body as JSON (tests and clients).
    public var json: JSON? { JSON.parse(body) }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}
