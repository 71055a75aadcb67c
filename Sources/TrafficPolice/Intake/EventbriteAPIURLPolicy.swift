import Foundation

/// Decides whether an Eventbrite webhook's `api_url` may ever be fetched: only when its scheme,
/// host, port and path prefix are those of the configured API base URL (DESIGN.md section 6).
///
/// Also refused: user info, a fragment, dot segments and encoded slashes or dots in the path
/// (anything that could climb out of the prefix once a client normalises it).
public struct EventbriteAPIURLPolicy: Sendable, Hashable {
    public let scheme: String
    public let host: String
    public let port: Int
    /// The base path with a trailing slash (`/v3/`).
    public let pathPrefix: String

    /// Fails when `baseURL` is not an absolute http(s) URL with a host.
    public init(baseURL: String) throws {
        guard let parts = Self.parts(baseURL) else { throw EventbriteWebhookError.unusableBaseURL(baseURL) }
        self.scheme = parts.scheme
        self.host = parts.host
        self.port = parts.port
        self.pathPrefix = parts.path.hasSuffix("/") ? parts.path : parts.path + "/"
    }

    /// Whether `apiURL` lies under the base URL.
    public func allows(_ apiURL: String) -> Bool {
        guard let parts = Self.parts(apiURL), !parts.hasUserInfo, !parts.hasFragment else { return false }
        guard parts.scheme == scheme, parts.host == host, parts.port == port else { return false }
        guard parts.path.hasPrefix(pathPrefix), parts.path.count > pathPrefix.count else { return false }
        let segments = parts.path.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0 == "." || $0 == ".." }) else { return false }
        let lowered = parts.path.lowercased()
        return !lowered.contains("%2f") && !lowered.contains("%2e") && !lowered.contains("%5c")
            && !parts.path.contains("\\")
    }

    /// The order id of an `api_url` that names an order (`<base>/orders/{id}/`), else nil.
    public func orderID(in apiURL: String) -> String? {
        guard allows(apiURL), let path = Self.parts(apiURL)?.path else { return nil }
        let rest = path.dropFirst(pathPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard rest.count >= 2, rest.count <= 3, rest[0] == "orders", !rest[1].isEmpty,
            rest[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), rest.count == 2 || rest[2].isEmpty
        else { return nil }
        return String(rest[1])
    }

    private struct Parts {
        var scheme: String
        var host: String
        var port: Int
        var path: String
        var hasUserInfo: Bool
        var hasFragment: Bool
    }

    private static func parts(_ text: String) -> Parts? {
        guard text.utf8.count <= 2048, text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }),
            let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = components.percentEncodedHost?.lowercased(), !host.isEmpty
        else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return Parts(
            scheme: scheme, host: host, port: port, path: components.percentEncodedPath,
            hasUserInfo: components.percentEncodedUser != nil || components.percentEncodedPassword != nil,
            hasFragment: components.percentEncodedFragment != nil)
    }
}

/// Eventbrite intake failures that are not about the HTTP exchange itself.
public enum EventbriteWebhookError: Error, Sendable, Hashable, CustomStringConvertible {
    case unusableBaseURL(String)

    public var description: String {
        switch self {
        case .unusableBaseURL(let url): "the Eventbrite base URL '\(url)' is not an absolute http(s) URL"
        }
    }
}

/// The thin ping Eventbrite posts: `{"api_url": "...", "config": {"action": "...", ...}}`.
struct EventbritePing: Decodable, Sendable {
    struct Config: Decodable, Sendable {
        var action: String
    }

    var apiURL: String
    var config: Config

    enum CodingKeys: String, CodingKey {
        case apiURL = "api_url"
        case config
    }
}
