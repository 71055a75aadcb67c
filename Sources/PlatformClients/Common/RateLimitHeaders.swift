import CurlBridge
import Foundation

/// The rate-limit hints a response may carry in its headers.
public struct RateLimitHeaders: Sendable, Hashable {
    /// `Retry-After` in whole seconds (the form Luma documents); nil when absent or not a number.
    public var retryAfter: Duration?
    /// `X-RateLimit-Reset`: Unix seconds, Unix milliseconds (values above 10^11) or ISO 8601.
    public var resetAt: Date?
    /// `X-RateLimit-Limit`.
    public var limit: Int?
    /// `X-RateLimit-Remaining`.
    public var remaining: Int?

    /// Reads the hints from `response`.
    public init(_ response: HTTPResponse) {
        let trimmed = { (name: String) in response.header(name)?.trimmingCharacters(in: .whitespaces) }
        retryAfter = trimmed("Retry-After").flatMap { Int64($0) }.map { .seconds(max(0, $0)) }
        resetAt = trimmed("X-RateLimit-Reset").flatMap(Self.parseReset)
        limit = trimmed("X-RateLimit-Limit").flatMap { Int($0) }
        remaining = trimmed("X-RateLimit-Remaining").flatMap { Int($0) }
    }

    static func parseReset(_ text: String) -> Date? {
        if let number = Double(text), number.isFinite, number >= 0 {
            return Date(timeIntervalSince1970: number > 1e11 ? number / 1000 : number)
        }
        return PlatformDate.parse(text)
    }
}
