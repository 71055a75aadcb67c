import NIOCore
import NIOHTTP1

/// One endpoint of a server: method, path pattern and handler.
///
/// A pattern is a literal path whose segments may include one `{name}` placeholder, which matches
/// any single non-empty segment and is handed to the handler as `ServerRequest.parameter`.
public struct Route: Sendable {
    /// The method; a `GET` route also answers `HEAD`.
    public var method: HTTPMethod
    /// The path pattern, e.g. `/healthz` or `/api/events/{id}`.
    public var pattern: String
    /// The route's label in metrics (never the raw path, which may carry a secret or an id).
    public var name: String
    /// When set, a request without an `application/json` content type is answered 415.
    public var requiresJSONBody: Bool
    /// Checked on the request head, before any body is read: a response here ends the request
    /// (a disabled platform, a wrong secret path segment).
    public var admit: (@Sendable (HTTPRequestHead, _ parameter: String?) -> ServerResponse?)?
    /// Answers the fully received request.
    public var handler: @Sendable (ServerRequest) async -> ServerResponse

    public init(
        _ method: HTTPMethod, _ pattern: String, name: String, requiresJSONBody: Bool = false,
        admit: (@Sendable (HTTPRequestHead, _ parameter: String?) -> ServerResponse?)? = nil,
        handler: @escaping @Sendable (ServerRequest) async -> ServerResponse
    ) {
        self.method = method
        self.pattern = pattern
        self.name = name
        self.requiresJSONBody = requiresJSONBody
        self.admit = admit
        self.handler = handler
    }

    /// Matches a path: nil when it does not, `.some(nil)` for a match without placeholder,
    /// `.some(value)` with the captured segment.
    func match(path: String) -> String?? {
        let wanted = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let given = path.split(separator: "/", omittingEmptySubsequences: false)
        guard wanted.count == given.count else { return nil }
        var captured: String? = nil
        for (want, got) in zip(wanted, given) {
            if want.hasPrefix("{") && want.hasSuffix("}") {
                guard !got.isEmpty else { return nil }
                captured = String(got)
            } else if want != got {
                return nil
            }
        }
        return .some(captured)
    }

    func accepts(_ method: HTTPMethod) -> Bool {
        method == self.method || (self.method == .GET && method == .HEAD)
    }
}
