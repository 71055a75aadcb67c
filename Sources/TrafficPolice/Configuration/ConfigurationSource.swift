import Foundation
import TOMLKit

/// Flat `section.key` → text values read from the TOML file and the environment.
///
/// Precedence: environment (`TRAFFIC_POLICE_` + section + key, upper case, `.` and `-` as `_`),
/// then the file, then the default of each key. Unknown keys in the file are errors, so a typo
/// is reported instead of silently ignored.
public struct ConfigurationSource: Sendable {
    /// The default location of the config file; it is optional.
    public static let defaultPath = "/etc/traffic-police/traffic-police.toml"

    /// Values from the file, by dotted key.
    public private(set) var fileValues: [String: String]
    /// The process environment.
    public var environment: [String: String]
    /// Where the file values came from, for messages.
    public private(set) var path: String?

    public init(fileValues: [String: String] = [:], environment: [String: String] = [:], path: String? = nil) {
        self.fileValues = fileValues
        self.environment = environment
        self.path = path
    }

    /// Reads `path` (or the default path when it exists) and the environment.
    /// A path given explicitly must exist; the default may be absent.
    public static func load(path explicitPath: String?, environment: [String: String], knownKeys: Set<String>)
        throws -> ConfigurationSource
    {
        let path = explicitPath ?? environment["TRAFFIC_POLICE_CONFIG"]
        let resolved: String
        if let path {
            resolved = path
        } else if FileManager.default.fileExists(atPath: defaultPath) {
            resolved = defaultPath
        } else {
            return ConfigurationSource(environment: environment)
        }
        guard let handle = FileHandle(forReadingAtPath: resolved) else {
            throw ConfigurationError(key: "--config", reason: "cannot open \(resolved)")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw ConfigurationError(key: "--config", reason: "cannot read \(resolved): \(error)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(key: "--config", reason: "\(resolved) is not UTF-8 text")
        }
        let values = try parse(text, path: resolved)
        for key in values.keys.sorted() where !knownKeys.contains(key) {
            throw ConfigurationError(key: key, reason: unknownKeyReason(key, path: resolved))
        }
        return ConfigurationSource(fileValues: values, environment: environment, path: resolved)
    }

    /// Why `key` is refused; a key that looks like a secret points at the credentials instead.
    /// The value is never echoed.
    static func unknownKeyReason(_ key: String, path: String) -> String {
        let name = key.split(separator: ".").last.map { $0.lowercased() } ?? ""
        let secretWords = ["token", "secret", "password", "api_key", "apikey", "credential"]
        if secretWords.contains(where: { name.contains($0) }) {
            return "unknown key in \(path); secrets are never read from the config file: install them as "
                + "systemd credentials in /etc/traffic-police/credentials/ (see Credentials)"
        }
        return "unknown key in \(path)"
    }

    /// Parses TOML into dotted keys (`[platforms.luma] base_url` → `platforms.luma.base_url`).
    public static func parse(_ text: String, path: String) throws -> [String: String] {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(
                key: "--config",
                reason: "\(path) line \(error.source.begin.line): \(error.description)")
        } catch {
            throw ConfigurationError(key: "--config", reason: "\(path) is not valid TOML: \(error)")
        }
        var values: [String: String] = [:]
        flatten(table, prefix: "", into: &values)
        return values
    }

    private static func flatten(_ table: TOMLTable, prefix: String, into values: inout [String: String]) {
        for (key, value) in table {
            let dotted = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let nested = value.table {
                flatten(nested, prefix: dotted, into: &values)
            } else if let string = value.string {
                values[dotted] = string
            } else if let int = value.int {
                values[dotted] = String(int)
            } else if let double = value.double {
                values[dotted] = String(double)
            } else if let bool = value.bool {
                values[dotted] = bool ? "true" : "false"
            } else {
                values[dotted] = value.debugDescription
            }
        }
    }

    /// The environment variable that overrides `key`: `redis.url` → `TRAFFIC_POLICE_REDIS_URL`.
    public static func environmentName(_ key: String) -> String {
        "TRAFFIC_POLICE_" + key.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 }.map(String.init).joined()
    }

    /// The text for `key` (environment first, then the file), or nil for the default.
    public func value(_ key: String) -> String? {
        if let value = environment[Self.environmentName(key)] { return value }
        return fileValues[key]
    }

    /// Where `key`'s value came from, for messages.
    public func origin(_ key: String) -> String {
        if environment[Self.environmentName(key)] != nil { return Self.environmentName(key) }
        if fileValues[key] != nil, let path { return "\(key) in \(path)" }
        return "\(key) (default)"
    }
}
