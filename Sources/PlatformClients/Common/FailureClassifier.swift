import CurlBridge

/// Turns a non-success HTTP response into a `PlatformCallError` by the rules every platform shares:
/// 429 (or a rate-limit code) → `.rateLimited` with the header hints; 401, 403 or an auth code →
/// `.unauthorized`; 5xx and 408 → `.retryable`; any other status → `.permanent`.
struct FailureClassifier: Sendable {
    /// Error codes that mean "rate limited" whatever the status (Eventbrite `HIT_RATE_LIMIT`).
    var rateLimitCodes: Set<String> = []
    /// Error codes that mean "the credential was refused" whatever the status.
    var authorizationCodes: Set<String> = []

    /// The error for `response`, whose status is not 2xx.
    func classify(_ response: HTTPResponse) -> PlatformCallError {
        let body = ErrorBody(response.body)
        let status = response.status
        if status == 429 || body.code.map(rateLimitCodes.contains) == true {
            let headers = RateLimitHeaders(response)
            return .rateLimited(retryAfter: headers.retryAfter, resetAt: headers.resetAt, detail: body.summary(status))
        }
        if status == 401 || status == 403 || body.code.map(authorizationCodes.contains) == true {
            return .unauthorized(status: status, message: body.summary(status))
        }
        if status >= 500 || status == 408 {
            return .retryable(status: status, detail: body.summary(status))
        }
        return .permanent(status: status, code: body.code, message: body.message ?? body.summary(status))
    }
}

/// The error fields the three platforms put in a failed response, read leniently: Eventbrite
/// `{"error","error_description"}`, Luma `{"message"}`, GraphQL `{"errors":[{"message"}]}`.
/// A body that is not JSON keeps its first 200 characters as the message.
struct ErrorBody: Decodable {
    var code: String?
    var message: String?

    private enum CodingKeys: String, CodingKey {
        case error, errorDescription = "error_description", message, errors
    }

    private struct GraphQLMessage: Decodable { var message: String? }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try? container.decodeIfPresent(String.self, forKey: .error)
        message = (try? container.decodeIfPresent(String.self, forKey: .errorDescription))
            ?? (try? container.decodeIfPresent(String.self, forKey: .message))
            ?? (try? container.decodeIfPresent([GraphQLMessage].self, forKey: .errors))?.first?.message
    }

    init(_ bytes: [UInt8]) {
        if let body = try? JSONBody.decode(ErrorBody.self, from: bytes) {
            self = body
        } else {
            code = nil
            let text = String(decoding: bytes.prefix(200), as: UTF8.self)
            message = text.isEmpty ? nil : text
        }
    }

    /// `CODE: message`, or `HTTP status` when the body said nothing.
    func summary(_ status: Int) -> String {
        switch (code, message) {
        case (let code?, let message?): "\(code): \(message)"
        case (let code?, nil): code
        case (nil, let message?): message
        case (nil, nil): "HTTP \(status)"
        }
    }
}
