import CurlBridge
import TrafficPoliceCore

/// One platform call as a value, built before it is sent so the throttler can admit it by `cost`.
public struct PlatformRequest: Sendable, Hashable, CustomStringConvertible {
    /// The HTTP method: `GET` for reads, `POST` for writes and every Meetup call.
    public var method: String
    /// Appended to the endpoint's base URL: `/orders/1/` or `/v1/events/get`; empty for Meetup.
    public var path: String
    /// Query parameters in order; percent-encoded when the URL is built.
    public var query: [QueryItem]
    /// A JSON body, sent with `Content-Type: application/json`.
    public var body: [UInt8]?
    /// Extra headers (the credential header is added from the endpoint, never stored here).
    public var headers: [QueryItem]
    /// What the call costs the platform's budget: 1 for Eventbrite and Luma, Meetup's point estimate.
    public var cost: Int

    /// Creates a request value.
    public init(
        method: String, path: String, query: [QueryItem] = [], body: [UInt8]? = nil, headers: [QueryItem] = [],
        cost: Int = 1
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers
        self.cost = cost
    }

    /// The path and the encoded query, e.g. `/events/1/orders/?continuation=a%2Bb`.
    public var target: String {
        query.isEmpty ? path : path + "?" + QueryItem.encode(query)
    }

    /// The libcurl request for `endpoint`: URL, auth header, `Accept` and (with a body) `Content-Type`.
    public func httpRequest(for endpoint: PlatformEndpoint) -> HTTPRequest {
        var headerList: [(name: String, value: String)] = [endpoint.authorizationHeader]
        headerList.append((name: "Accept", value: "application/json"))
        if body != nil { headerList.append((name: "Content-Type", value: "application/json")) }
        headerList += headers.map { (name: $0.name, value: $0.value) }
        var request = HTTPRequest(method: method, url: endpoint.baseURL + target, headers: headerList, body: body)
        request.connectTimeout = endpoint.connectTimeout
        request.timeout = endpoint.timeout
        request.verifyTLS = endpoint.verifyTLS
        return request
    }

    public var description: String { "\(method) \(target) (cost \(cost))" }
}

/// A name and a value: one query parameter or one header.
public struct QueryItem: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// `name=value&…` with everything but RFC 3986 unreserved characters percent-encoded
    /// (so `+`, `/`, `=` and `:` in tokens and dates survive).
    public static func encode(_ items: [QueryItem]) -> String {
        items.map { percentEncoded($0.name) + "=" + percentEncoded($0.value) }.joined(separator: "&")
    }

    /// Percent-encodes every byte outside `A-Z a-z 0-9 - . _ ~`.
    public static func percentEncoded(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(UnicodeScalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(UnicodeScalar(hex[Int(byte & 0x0F)]))
            }
        }
        return out
    }
}

/// A call ready to send: the request value and how its response is turned into a result.
/// Build one with `EventbriteCalls`, `LumaCalls` or `MeetupCalls`; send it with the platform's client.
public struct PlatformCall<Result: Sendable>: Sendable {
    /// What is sent (and what the throttler admits by `request.cost`).
    public var request: PlatformRequest
    /// Classifies and decodes the response; throws `PlatformCallError`.
    public var decode: @Sendable (HTTPResponse) throws -> Result

    public init(request: PlatformRequest, decode: @escaping @Sendable (HTTPResponse) throws -> Result) {
        self.request = request
        self.decode = decode
    }
}
