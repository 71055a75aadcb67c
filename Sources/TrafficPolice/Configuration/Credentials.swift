import Foundation

/// Platform tokens and webhook secrets: files named as `CredentialName` in `$CREDENTIALS_DIRECTORY`
/// (systemd `LoadCredential=`), falling back to `TRAFFIC_POLICE_CREDENTIAL_*` environment variables
/// for development. Never read from the config file. A trailing newline is trimmed; an empty value
/// counts as absent (the unit's empty `SetCredential=` fallback for a missing file).
///
/// Absent credentials are not an error: `availability` disables the platforms that need them.
/// `description` names what is present and where it came from, never a value.
public struct Credentials: Sendable, CustomStringConvertible {
    /// Where a credential was found.
    public enum Origin: String, Sendable, Hashable {
        case credentialsDirectory = "$CREDENTIALS_DIRECTORY"
        case environment
    }

    /// The largest credential file read; anything larger is refused.
    public static let maximumBytes = 64 * 1024

    private var values: [CredentialName: Secret]
    /// Where each present credential came from.
    public private(set) var origins: [CredentialName: Origin]

    /// Credentials given directly (tests, tools).
    public init(_ values: [CredentialName: Secret] = [:]) {
        self.values = values.filter { !$0.value.revealed.isEmpty }
        self.origins = self.values.mapValues { _ in .environment }
    }

    /// Reads every `CredentialName`: the file in `$CREDENTIALS_DIRECTORY` first, then its environment
    /// variable. Throws a `ConfigurationError` only for a file that exists but cannot be read
    /// (permissions, too large, not UTF-8): a missing credential is simply absent.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Credentials {
        var credentials = Credentials()
        let directory = environment["CREDENTIALS_DIRECTORY"].flatMap { $0.isEmpty ? nil : $0 }
        for name in CredentialName.allCases {
            if let directory, let text = try readFile(directory: directory, name: name), !text.isEmpty {
                credentials.values[name] = Secret(text)
                credentials.origins[name] = .credentialsDirectory
            } else if let raw = environment[name.environmentName] {
                let text = trimmed(raw)
                if !text.isEmpty {
                    credentials.values[name] = Secret(text)
                    credentials.origins[name] = .environment
                }
            }
        }
        return credentials
    }

    /// The credential `name`, or nil when absent.
    public subscript(name: CredentialName) -> Secret? { values[name] }

    public var eventbriteToken: Secret? { values[.eventbriteToken] }
    public var eventbriteWebhookSecret: Secret? { values[.eventbriteWebhookSecret] }
    public var lumaAPIKey: Secret? { values[.lumaAPIKey] }
    public var lumaWebhookSecret: Secret? { values[.lumaWebhookSecret] }
    public var meetupToken: Secret? { values[.meetupToken] }

    /// Which platforms these credentials enable.
    public var availability: PlatformAvailability { PlatformAvailability(present: Set(values.keys)) }

    public var description: String {
        let present = CredentialName.allCases.compactMap { name in
            origins[name].map { "\(name.rawValue) (\($0.rawValue))" }
        }
        return "Credentials(" + (present.isEmpty ? "none" : present.joined(separator: ", ")) + ")"
    }

    /// The file's text without its trailing newline, nil when the file does not exist.
    private static func readFile(directory: String, name: CredentialName) throws -> String? {
        let path = (directory as NSString).appendingPathComponent(name.rawValue)
        let key = "credential \(name.rawValue)"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigurationError(key: key, reason: "\(path) exists but cannot be opened")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
        } catch {
            throw ConfigurationError(key: key, reason: "cannot read \(path): \(error)")
        }
        guard data.count <= maximumBytes else {
            throw ConfigurationError(key: key, reason: "\(path) is larger than \(maximumBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(key: key, reason: "\(path) is not UTF-8 text")
        }
        return trimmed(text)
    }

    /// Removes trailing line breaks (a file written by `echo` ends in one); nothing else.
    static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last == "\n" || last == "\r" || last == "\r\n" { text.removeLast() }
        return String(text)
    }
}
