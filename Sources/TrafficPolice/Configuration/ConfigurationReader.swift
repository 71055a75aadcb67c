import Foundation
import TrafficPoliceCore

/// Typed reads of `ConfigurationSource` values: each failure is one `ConfigurationError` naming the
/// key, the value and where it came from.
struct ConfigurationReader {
    var source: ConfigurationSource
    var defaults: [String: String]

    /// The raw text for `key`: environment, then file, then default.
    func text(_ key: String) -> String { source.value(key) ?? defaults[key] ?? "" }

    func error(_ key: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(key: key, reason: "\(reason) (from \(source.origin(key)))")
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
        let raw = text(key)
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw error(key, "'\(raw)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func milliseconds(_ key: String, in range: ClosedRange<Int>) throws -> Duration {
        .milliseconds(try integer(key, in: range))
    }

    /// A value from a fixed set, e.g. `luma` | `standard-webhooks`.
    func choice<T>(_ key: String, _ choices: [(name: String, value: T)]) throws -> T {
        let raw = text(key).trimmingCharacters(in: .whitespaces)
        guard let match = choices.first(where: { $0.name == raw }) else {
            throw error(key, "'\(raw)' is not one of \(choices.map(\.name).joined(separator: ", "))")
        }
        return match.value
    }

    /// An absolute path short enough for `sockaddr_un` (107 bytes plus the terminating NUL).
    func socketPath(_ key: String) throws -> String {
        let path = text(key)
        guard path.hasPrefix("/") else { throw error(key, "'\(path)' is not an absolute path") }
        guard path.utf8.count <= 107 else { throw error(key, "'\(path)' is longer than 107 bytes (sockaddr_un)") }
        guard !path.hasSuffix("/") else { throw error(key, "'\(path)' names a directory, not a socket") }
        return path
    }

    /// An http(s) API root with a host and no query or fragment, without a trailing `/`
    /// (paths are appended to it).
    func baseURL(_ key: String) throws -> URL {
        var raw = text(key).trimmingCharacters(in: .whitespaces)
        while raw.hasSuffix("/") { raw.removeLast() }
        guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http"
        else {
            throw error(key, "'\(raw)' is not an http:// or https:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw error(key, "'\(raw)' has no host") }
        guard components.query == nil, components.fragment == nil else {
            throw error(key, "'\(raw)' must not carry a query or fragment")
        }
        guard components.user == nil, components.password == nil else {
            throw error(key, "'\(raw)' must not carry user info: tokens come from credentials")
        }
        guard let url = components.url else { throw error(key, "'\(raw)' is not a valid URL") }
        return url
    }

    /// A platform's throttle budget from its limit key and `rate_margin_percent` beside it.
    func budget(_ platform: Platform, limit key: String) throws -> Budget {
        let marginKey = "platforms.\(platform.rawValue).rate_margin_percent"
        let limit = try integer(key, in: 2...10_000_000)
        let margin = try integer(marginKey, in: 1...99)
        do {
            return try Budget.configured(for: platform, limit: limit, marginPercent: margin)
        } catch let error as DomainError {
            throw self.error(marginKey, error.message)
        }
    }
}
