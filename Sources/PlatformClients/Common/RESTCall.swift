import CurlBridge

extension PlatformCall {
    /// A REST call (Eventbrite, Luma): a 2xx body is decoded as `Body` and mapped by `transform`;
    /// any other status goes through `classifier`.
    static func rest<Body: Decodable>(
        _ request: PlatformRequest, classifier: FailureClassifier, body: Body.Type,
        transform: @escaping @Sendable (Body) throws -> Result
    ) -> PlatformCall {
        PlatformCall(request: request) { response in
            guard (200..<300).contains(response.status) else { throw classifier.classify(response) }
            return try transform(JSONBody.decode(Body.self, from: response.body))
        }
    }
}

extension PlatformCall where Result: Decodable {
    /// A REST call whose 2xx body is `Result` itself.
    static func rest(_ request: PlatformRequest, classifier: FailureClassifier) -> PlatformCall {
        rest(request, classifier: classifier, body: Result.self) { $0 }
    }
}

/// Joins path segments, percent-encoding each (an id can never add a `/` or a query).
func pathOf(_ segments: String..., trailingSlash: Bool) -> String {
    "/" + segments.map(QueryItem.percentEncoded).joined(separator: "/") + (trailingSlash ? "/" : "")
}
