import Logging
import SystemdBridge

/// How log entries become journald fields (shared by `JournalLogHandler` and its tests).
enum JournalFields {
    /// The identifier every entry carries (`journalctl -t traffic-police`).
    static let syslogIdentifier = "traffic-police"

    /// Fields the handler sets itself; metadata normalising to one of them is prefixed `META_`.
    static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "LOGGER", "ERROR",
        "MESSAGE_ID", "SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_TIMESTAMP",
    ]

    /// syslog(3) priority for a swift-log level (0 emerg … 7 debug).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// `event_id` → `EVENT_ID`, `order-id` → `ORDER_ID`; reserved names get a `META_` prefix.
    static func name(forMetadataKey key: String) -> String {
        let name = Journal.fieldName(key)
        return reserved.contains(name) ? String(("META_" + name).prefix(64)) : name
    }

    /// The text of a metadata value: strings as they are, the rest as swift-log prints them.
    static func text(_ value: Logger.MetadataValue) -> String {
        if case .string(let string) = value { return string }
        if case .stringConvertible(let convertible) = value { return convertible.description }
        return value.description
    }

    /// Every field of one entry, in a stable order: the fixed ones, then metadata sorted by key.
    static func fields(
        event: LogEvent, label: String, metadata: Logger.Metadata
    ) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", event.message.description),
            ("PRIORITY", String(priority(event.level))),
            ("SYSLOG_IDENTIFIER", syslogIdentifier),
            ("CODE_FILE", event.file),
            ("CODE_LINE", String(event.line)),
            ("CODE_FUNC", event.function),
            ("LOGGER", label),
        ]
        if let error = event.error { fields.append(("ERROR", String(describing: error))) }
        var seen = Set(fields.map(\.name))
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            let name = name(forMetadataKey: key)
            guard seen.insert(name).inserted else { continue }
            fields.append((name, text(value)))
        }
        return fields
    }
}
