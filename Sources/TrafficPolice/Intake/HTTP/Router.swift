import NIOCore
import NIOHTTP1

/// Decides, from a request head alone, whether a request is taken and by which route.
///
/// Everything that can be refused without reading the body is refused here, in this order:
/// unknown path 404, wrong method 405 (with `Allow`), the route's own admission check, a non-JSON
/// content type 415 (JSON routes), a declared Content-Length over the body limit 413.
public struct Router: Sendable {
    /// What the head decides.
    public enum Admission: Sendable {
        /// Read the body (up to the limit), then call the route's handler.
        case accept(Route, parameter: String?)
        /// Answer this without calling any handler; `routeName` labels the metrics.
        case reject(ServerResponse, routeName: String, bodyTooLarge: Bool)
    }

    public var routes: [Route]

    public init(_ routes: [Route]) {
        self.routes = routes
    }

    /// The admission decision for one head, given the body limit.
    public func admit(_ head: HTTPRequestHead, maxBodyBytes: Int) -> Admission {
        let path = head.path
        var allowed: [HTTPMethod] = []
        var found: (Route, String?)? = nil
        for route in routes {
            guard let parameter = route.match(path: path) else { continue }
            if route.accepts(head.method) {
                found = (route, parameter)
                break
            }
            allowed.append(route.method)
        }
        guard let (route, parameter) = found else {
            if allowed.isEmpty {
                return .reject(
                    .error(.notFound, "not_found", "no route for \(Self.printable(path))"),
                    routeName: "unmatched", bodyTooLarge: false)
            }
            var headers = HTTPHeaders()
            headers.add(name: "allow", value: allowed.map(\.rawValue).joined(separator: ", "))
            return .reject(
                .error(
                    .methodNotAllowed, "method_not_allowed",
                    "\(head.method.rawValue) is not allowed here; use \(allowed.map(\.rawValue).joined(separator: " or "))",
                    headers: headers),
                routeName: route(named: allowed, path: path), bodyTooLarge: false)
        }
        if let admit = route.admit, let refusal = admit(head, parameter) {
            return .reject(refusal, routeName: route.name, bodyTooLarge: false)
        }
        if route.requiresJSONBody && !Self.isJSON(head.headers.first(name: "content-type")) {
            return .reject(
                .error(.unsupportedMediaType, "unsupported_media_type", "the body must be application/json"),
                routeName: route.name, bodyTooLarge: false)
        }
        if let length = head.declaredContentLength, length > maxBodyBytes {
            return .reject(
                Self.bodyTooLarge(maxBodyBytes), routeName: route.name, bodyTooLarge: true)
        }
        return .accept(route, parameter: parameter)
    }

    /// The 413 answer, whether decided from Content-Length or while the body streams in.
    public static func bodyTooLarge(_ maxBodyBytes: Int) -> ServerResponse {
        .error(.payloadTooLarge, "body_too_large", "the request body is over the limit of \(maxBodyBytes) bytes")
    }

    /// `application/json`, with or without parameters (`; charset=utf-8`), in any case.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingASCIISpaces } ?? ""
        return mediaType.lowercased() == "application/json"
    }

    private func route(named methods: [HTTPMethod], path: String) -> String {
        routes.first { $0.match(path: path) != nil }?.name ?? "unmatched"
    }

    /// A path safe to echo in a message: at most 100 printable ASCII characters.
    static func printable(_ path: String) -> String {
        String(path.unicodeScalars.prefix(100).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }
}
