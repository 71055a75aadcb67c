import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A plain swift-log handler for when stderr is not journald: one line per entry written to file
/// descriptor 2 with a single `write(2)`:
/// `2025-01-31T12:00:00.123Z warning traffic-police.intake: message event_id=42 platform=luma`.
/// Line breaks in the message and values are escaped (`\n`), so an entry is always one line.
public struct StderrLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = Logger.Metadata.merged(metadata, provider: metadataProvider, event: event.metadata)
        Self.write(Self.line(event: event, label: label, metadata: merged))
    }

    /// The line for one entry (with its trailing newline), without the timestamp when `timestamp` is nil.
    static func line(
        event: LogEvent, label: String, metadata: Logger.Metadata, timestamp: String? = currentTimestamp()
    ) -> String {
        var line = ""
        if let timestamp { line += timestamp + " " }
        line += "\(event.level.rawValue) \(label): \(escaped(event.message.description))"
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            line += " \(escaped(key))=\(escaped(JournalFields.text(value)))"
        }
        if let error = event.error { line += " error=\(escaped(String(describing: error)))" }
        return line + "\n"
    }

    /// Writes `line` to fd 2, retrying on EINTR and short writes.
    static func write(_ line: String) {
        var bytes = Array(line.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    private static func escaped(_ text: String) -> String {
        guard text.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
        return text.replacingOccurrences(of: "\r\n", with: "\\r\\n").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r")
    }

    /// UTC, millisecond precision (ISO 8601).
    static func currentTimestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
