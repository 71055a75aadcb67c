import CurlBridge
import Foundation

/// Why a platform call failed, classified so the caller knows whether and when to try again.
public enum PlatformCallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The platform refused because of its rate limit (Eventbrite 429 HIT_RATE_LIMIT, Luma 429,
    /// Meetup `RATE_LIMITED`). `retryAfter` comes from `Retry-After`, `resetAt` from
    /// `X-RateLimit-Reset` or Meetup's `extensions.resetAt`; either may be unknown.
    case rateLimited(retryAfter: Duration?, resetAt: Date?, detail: String)
    /// A failure that may pass on its own: 5xx, timeouts, connection failures. `status` is nil
    /// when no response arrived.
    case retryable(status: Int?, detail: String)
    /// The platform answered and meant it: 4xx such as NOT_FOUND, CAPACITY_TOTAL_TOO_SMALL,
    /// ARGUMENTS_ERROR, GraphQL errors and mutation payload errors (`status` 200 for those).
    case permanent(status: Int, code: String?, message: String)
    /// The credential was refused (401, 403, Eventbrite INVALID_AUTH…). Retrying will not help.
    case unauthorized(status: Int, message: String)
    /// The response could not be read: `field` names the JSON path (or `body`), `why` the problem.
    case malformedResponse(field: String, why: String)

    public var description: String {
        switch self {
        case .rateLimited(let retryAfter, let resetAt, let detail):
            let after = retryAfter.map { " retry after \($0)" } ?? ""
            let reset = resetAt.map { " reset at \($0.formatted(.iso8601))" } ?? ""
            return "rate limited:\(after)\(reset) \(detail)"
        case .retryable(let status, let detail):
            return "retryable\(status.map { " (HTTP \($0))" } ?? ""): \(detail)"
        case .permanent(let status, let code, let message):
            return "permanent (HTTP \(status)\(code.map { " \($0)" } ?? "")): \(message)"
        case .unauthorized(let status, let message):
            return "unauthorized (HTTP \(status)): \(message)"
        case .malformedResponse(let field, let why):
            return "malformed response at \(field): \(why)"
        }
    }

    /// Whether trying the same call again may succeed (rate limits and `.retryable`).
    public var isRetryable: Bool { retryAdvice(now: Date()) != .doNotRetry }

    /// Whether and when to try again, as of `now`: a rate limit waits for `Retry-After`, else until
    /// `resetAt` (never less than zero), else the caller's own backoff; `.retryable` uses backoff.
    public func retryAdvice(now: Date) -> RetryAdvice {
        switch self {
        case .rateLimited(let retryAfter, let resetAt, _):
            if let retryAfter { return .after(max(retryAfter, .zero)) }
            if let resetAt {
                let milliseconds = (resetAt.timeIntervalSince(now) * 1000).rounded(.up)
                return .after(.milliseconds(Int64(max(0, min(milliseconds, 86_400_000)))))
            }
            return .withBackoff
        case .retryable:
            return .withBackoff
        case .permanent, .unauthorized, .malformedResponse:
            return .doNotRetry
        }
    }

    /// A libcurl failure as a call error: timeouts, connection failures, shutdown and other transfer
    /// errors are retryable; a TLS failure or a request libcurl refused is permanent (status 0).
    public init(_ error: CurlError) {
        switch error.kind {
        case .timeout, .connectionFailed, .other, .shutdown:
            self = .retryable(status: nil, detail: "\(error.kind): \(error.message)")
        case .tls, .invalidRequest:
            self = .permanent(status: 0, code: "\(error.kind)", message: error.message)
        }
    }
}

/// What `PlatformCallError.retryAdvice(now:)` recommends.
public enum RetryAdvice: Sendable, Hashable {
    /// The same call will fail again.
    case doNotRetry
    /// Retry with the caller's own exponential backoff (the platform gave no time).
    case withBackoff
    /// Retry once this much time has passed (the platform said so).
    case after(Duration)
}
