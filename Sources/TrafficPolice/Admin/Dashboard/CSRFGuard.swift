/// The dashboard's protection against cross-site requests, decided from a request's headers and
/// form alone (no I/O): a double-submit token (the same random token in an HttpOnly, SameSite=Strict
/// cookie and in a hidden form field) plus a strict origin check (`Sec-Fetch-Site`, `Origin`).
public struct CSRFGuard: Sendable, Hashable {
    /// The cookie carrying the token.
    public static let cookieName = "tp_dashboard_csrf"
    /// The form field carrying the token.
    public static let fieldName = "csrf"

    /// What a state-changing request presents.
    public struct Presented: Sendable, Hashable {
        /// The `Cookie` header(s), as sent.
        public var cookieHeader: String?
        /// The form's token field.
        public var formToken: String?
        /// The `Origin` header.
        public var origin: String?
        /// The `Sec-Fetch-Site` header.
        public var secFetchSite: String?
        /// The host the browser addressed: `X-Forwarded-Host` (set by the proxy) or `Host`.
        public var host: String?

        public init(
            cookieHeader: String?, formToken: String?, origin: String?, secFetchSite: String?, host: String?
        ) {
            self.cookieHeader = cookieHeader
            self.formToken = formToken
            self.origin = origin
            self.secFetchSite = secFetchSite
            self.host = host
        }
    }

    /// The decision.
    public enum Verdict: Sendable, Hashable {
        case allowed
        /// Refused (403), with the reason for the log and the page.
        case refused(String)
    }

    /// Decides whether a POST may change state.
    public static func check(_ presented: Presented) -> Verdict {
        if let site = presented.secFetchSite?.lowercased(), site != "same-origin", site != "none" {
            return .refused("the request came from another site (Sec-Fetch-Site: \(site))")
        }
        if let origin = presented.origin {
            guard let host = presented.host, !host.isEmpty,
                origin.lowercased() == "https://\(host.lowercased())" || origin.lowercased() == "http://\(host.lowercased())"
            else {
                return .refused("the request came from another origin (\(origin))")
            }
        }
        guard let cookie = token(inCookieHeader: presented.cookieHeader) else {
            return .refused("the dashboard's session cookie is missing: reload the page and try again")
        }
        guard let form = presented.formToken, isWellFormed(form), constantTimeEquals(cookie, form) else {
            return .refused("the form's token does not match the session: reload the page and try again")
        }
        return .allowed
    }

    /// The token in a `Cookie` header, when it holds a well-formed one.
    public static func token(inCookieHeader header: String?) -> String? {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingASCIISpaces == cookieName else { continue }
            let value = parts[1].trimmingASCIISpaces
            if isWellFormed(value) { return value }
        }
        return nil
    }

    /// A new token: 32 random bytes as 64 lowercase hex digits.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// The `Set-Cookie` value that hands a token to the browser (only the dashboard's paths see it);
    /// `secure` when the proxy says the browser came over HTTPS.
    public static func setCookie(_ token: String, secure: Bool = false) -> String {
        "\(cookieName)=\(token); Path=/dashboard; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 64 && token.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
