import CurlBridge
import Foundation

/// Reads Meetup's GraphQL answers: top-level `errors` first (a `RATE_LIMITED` one is a rate limit
/// whatever the HTTP status), then the HTTP status, then `data`.
enum GraphQLResponse {
    /// Codes in `errors[].extensions.code` that mean the token was refused.
    static let authorizationCodes: Set<String> = ["UNAUTHENTICATED", "UNAUTHORIZED", "FORBIDDEN"]

    /// One entry of the top-level `errors`.
    struct GraphQLError: Decodable {
        var message: String?
        var extensions: Extensions?

        struct Extensions: Decodable {
            var code: String?
            var consumedPoints: Int?
            var resetAt: String?
        }
    }

    private struct ErrorsOnly: Decodable {
        var errors: [GraphQLError]?
    }

    private struct DataOnly<Data: Decodable>: Decodable {
        var data: Data?
    }

    /// The `data` of `response` as `Data`, or the classified error.
    static func data<Data: Decodable>(_ type: Data.Type, from response: HTTPResponse) throws -> Data {
        let errors = (try? JSONBody.decode(ErrorsOnly.self, from: response.body))?.errors ?? []
        if let error = errors.first(where: { $0.extensions?.code == "RATE_LIMITED" }) {
            throw rateLimited(error, response)
        }
        guard (200..<300).contains(response.status) else {
            throw FailureClassifier(authorizationCodes: authorizationCodes).classify(response)
        }
        if let error = errors.first {
            let code = error.extensions?.code
            let message = error.message ?? "GraphQL error"
            if let code, authorizationCodes.contains(code) {
                throw PlatformCallError.unauthorized(status: response.status, message: "\(code): \(message)")
            }
            throw PlatformCallError.permanent(status: response.status, code: code, message: message)
        }
        guard let data = try JSONBody.decode(DataOnly<Data>.self, from: response.body).data else {
            throw PlatformCallError.malformedResponse(field: "data", why: "null without errors")
        }
        return data
    }

    private static func rateLimited(_ error: GraphQLError, _ response: HTTPResponse) -> PlatformCallError {
        var detail = "RATE_LIMITED: \(error.message ?? "rate limited")"
        if let consumed = error.extensions?.consumedPoints { detail += " (consumedPoints \(consumed))" }
        let headers = RateLimitHeaders(response)
        let resetAt = error.extensions?.resetAt.flatMap(PlatformDate.parse) ?? headers.resetAt
        return .rateLimited(retryAfter: headers.retryAfter, resetAt: resetAt, detail: detail)
    }

    /// A mutation payload: `{ event { id maxTickets } errors { code field message } }`.
    struct MutationPayload: Decodable {
        var event: Event?
        var errors: [PayloadError]?

        struct Event: Decodable {
            var id: String
            var maxTickets: Int?
        }

        struct PayloadError: Decodable {
            var code: String?
            var field: String?
            var message: String?
        }
    }

    /// The payload of mutation `field` in `response`: payload `errors` → `.permanent`.
    static func mutation(_ field: String, from response: HTTPResponse) throws -> MeetupMutationResult {
        let data = try data([String: MutationPayload?].self, from: response)
        guard let entry = data[field], let payload = entry else {
            throw PlatformCallError.malformedResponse(field: "data.\(field)", why: "missing or null")
        }
        if let error = payload.errors?.first {
            let message = [error.field, error.message].compactMap { $0 }.joined(separator: ": ")
            throw PlatformCallError.permanent(
                status: response.status, code: error.code, message: message.isEmpty ? "payload error" : message)
        }
        guard let event = payload.event else {
            throw PlatformCallError.malformedResponse(field: "data.\(field).event", why: "null without errors")
        }
        return MeetupMutationResult(eventID: event.id, maxTickets: event.maxTickets, cost: MeetupCost.mutation)
    }
}
