import CurlBridge
import Foundation
import PlatformClients
import Testing

/// How a failure is expected to be classified, without the details.
enum Class: String, Sendable {
    case rateLimited, retryable, permanent, unauthorized, malformed

    init(_ error: PlatformCallError?) {
        switch error {
        case .rateLimited: self = .rateLimited
        case .retryable: self = .retryable
        case .permanent: self = .permanent
        case .unauthorized: self = .unauthorized
        case .malformedResponse, nil: self = .malformed
        }
    }
}

@Suite("Error classification")
struct ErrorClassificationTests {
    @Test(arguments: [
        (429, "HIT_RATE_LIMIT", Class.rateLimited),
        (400, "INVALID_AUTH", .unauthorized), (400, "INVALID_AUTH_HEADER", .unauthorized),
        (401, "NO_AUTH", .unauthorized), (401, "ACCESS_DENIED", .unauthorized), (403, "NOT_AUTHORIZED", .unauthorized),
        (404, "NOT_FOUND", .permanent), (400, "CAPACITY_TOTAL_TOO_SMALL", .permanent),
        (400, "ARGUMENTS_ERROR", .permanent), (400, "BAD_CONTINUATION_TOKEN", .permanent),
        (400, "ORDER_EXPIRED", .permanent), (409, "REQUEST_CONFLICT", .permanent),
        (500, "INTERNAL_ERROR", .retryable), (500, "EXPANSION_FAILED", .retryable), (503, "", .retryable),
    ])
    func eventbrite(status: Int, code: String, expected: Class) {
        let body = code.isEmpty ? "Service Unavailable" : Fixtures.eventbriteError(code, "details", status)
        let error = callError { try EventbriteCalls.capacityTier(eventID: "7").decode(response(status, body)) }
        #expect(Class(error) == expected)
        if expected == .permanent {
            #expect(error == .permanent(status: status, code: code, message: "details"))
        }
    }

    @Test func eventbriteRateLimitWithoutHeadersLeavesTheTimeToBackoff() {
        let error = callError {
            try EventbriteCalls.order(id: "1").decode(
                response(429, Fixtures.eventbriteError("HIT_RATE_LIMIT", "Hourly rate limit has been reached", 429)))
        }
        #expect(error == .rateLimited(retryAfter: nil, resetAt: nil, detail: "HIT_RATE_LIMIT: Hourly rate limit has been reached"))
        #expect(error?.retryAdvice(now: Date()) == .withBackoff)
        #expect(error?.isRetryable == true)
    }

    @Test(arguments: [
        (429, Class.rateLimited), (400, .permanent), (404, .permanent), (401, .unauthorized), (403, .unauthorized),
        (408, .retryable), (500, .retryable), (502, .retryable), (504, .retryable),
    ])
    func luma(status: Int, expected: Class) {
        let error = callError { try LumaCalls.event(id: "evt-1").decode(response(status, #"{"message":"nope"}"#)) }
        #expect(Class(error) == expected)
    }

    @Test func lumaRateLimitCarriesRetryAfterAndReset() {
        let headers = [
            (name: "Retry-After", value: "42"), (name: "X-RateLimit-Limit", value: "200"),
            (name: "X-RateLimit-Remaining", value: "0"), (name: "X-RateLimit-Reset", value: "1767225600"),
        ]
        let error = callError {
            try LumaCalls.guests(eventID: "e").decode(response(429, #"{"message":"Too many requests"}"#, headers: headers))
        }
        #expect(error == .rateLimited(
            retryAfter: .seconds(42), resetAt: Date(timeIntervalSince1970: 1_767_225_600), detail: "Too many requests"))
        #expect(error?.retryAdvice(now: Date()) == .after(.seconds(42)))
    }

    @Test func resetOnlyRetriesAtTheReset() {
        let now = Date(timeIntervalSince1970: 1_000)
        let error = PlatformCallError.rateLimited(retryAfter: nil, resetAt: now.addingTimeInterval(2.5), detail: "")
        #expect(error.retryAdvice(now: now) == .after(.milliseconds(2500)))
        #expect(error.retryAdvice(now: now.addingTimeInterval(10)) == .after(.zero))
    }

    @Test func rateLimitHeaderForms() {
        let iso = RateLimitHeaders(response(429, "", headers: [(name: "x-ratelimit-reset", value: "2026-01-01T00:00:00.500Z")]))
        #expect(iso.resetAt == Date(timeIntervalSince1970: 1_767_225_600.5))
        let millis = RateLimitHeaders(response(429, "", headers: [(name: "X-RateLimit-Reset", value: "1767225600000")]))
        #expect(millis.resetAt == Date(timeIntervalSince1970: 1_767_225_600))
        let junk = RateLimitHeaders(response(429, "", headers: [(name: "Retry-After", value: "soon")]))
        #expect(junk.retryAfter == nil && junk.resetAt == nil)
    }

    @Test func meetupRateLimitedWithStatus200() {
        let error = callError { try MeetupCalls.rsvps(eventID: "1").decode(response(200, Fixtures.meetupRateLimited)) }
        let resetAt = Date(timeIntervalSince1970: 1_639_334_271.644)
        guard case .rateLimited(let retryAfter, let reset?, let detail) = error else {
            Issue.record("expected rateLimited, got \(String(describing: error))")
            return
        }
        #expect(retryAfter == nil)
        #expect(abs(reset.timeIntervalSince(resetAt)) < 0.001)
        #expect(detail.contains("consumedPoints 574"))
        #expect(error?.retryAdvice(now: resetAt.addingTimeInterval(-1)) == .after(.milliseconds(1000)))
    }

    @Test func meetupRateLimitedAs429() {
        let error = callError { try MeetupCalls.editEvent(eventID: "1", rsvpLimit: 3).decode(response(429, Fixtures.meetupRateLimited)) }
        #expect(Class(error) == .rateLimited)
    }

    @Test(arguments: [
        (200, #"{"errors":[{"message":"Event not found","extensions":{"code":"NOT_FOUND"}}],"data":{"event":null}}"#, Class.permanent),
        (200, #"{"errors":[{"message":"Syntax Error"}],"data":null}"#, .permanent),
        (200, #"{"errors":[{"message":"no token","extensions":{"code":"UNAUTHENTICATED"}}],"data":null}"#, .unauthorized),
        (401, #"{"errors":[{"message":"unauthorized"}]}"#, .unauthorized),
        (500, "oops", .retryable), (503, "", .retryable), (400, #"{"message":"bad"}"#, .permanent),
        (200, #"{"data":{"event":null}}"#, .permanent),
        (200, #"{"data":null}"#, .malformed),
    ])
    func meetup(status: Int, body: String, expected: Class) {
        let error = callError { try MeetupCalls.rsvps(eventID: "1").decode(response(status, body)) }
        #expect(Class(error) == expected)
    }

    @Test func meetupPayloadErrorsArePermanent() {
        let error = callError {
            try MeetupCalls.editEvent(eventID: "1", rsvpLimit: -1).decode(response(200, Fixtures.meetupEditEventPayloadError))
        }
        #expect(error == .permanent(
            status: 200, code: "INVALID_RSVP_LIMIT", message: "rsvpSettings.rsvpLimit: RSVP limit must not be negative"))
        #expect(error?.isRetryable == false)
    }

    @Test(arguments: [
        (CurlError.Kind.timeout, Class.retryable), (.connectionFailed, .retryable), (.other, .retryable),
        (.shutdown, .retryable), (.tls, .permanent), (.invalidRequest, .permanent),
    ])
    func transportFailures(kind: CurlError.Kind, expected: Class) {
        #expect(Class(PlatformCallError(CurlError(kind: kind, code: 0, message: "m"))) == expected)
    }

    @Test func retryAdviceByClass() {
        let now = Date()
        #expect(PlatformCallError.retryable(status: 503, detail: "").retryAdvice(now: now) == .withBackoff)
        #expect(PlatformCallError.permanent(status: 404, code: "NOT_FOUND", message: "").retryAdvice(now: now) == .doNotRetry)
        #expect(PlatformCallError.unauthorized(status: 401, message: "").retryAdvice(now: now) == .doNotRetry)
        #expect(PlatformCallError.malformedResponse(field: "id", why: "").retryAdvice(now: now) == .doNotRetry)
    }
}
