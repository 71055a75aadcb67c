import Logging
import SystemdBridge

/// A swift-log handler writing structured entries to journald (`sd_journal_sendv`): MESSAGE,
/// PRIORITY (from the level), SYSLOG_IDENTIFIER=traffic-police, CODE_FILE/CODE_LINE/CODE_FUNC,
/// LOGGER (the label), ERROR (when given) and every metadata key as a field
/// (`event_id` → EVENT_ID, `platform` → PLATFORM, `order_id` → ORDER_ID, `mode` → MODE, others
/// upper-cased), so `journalctl -u traffic-police EVENT_ID=42` works.
///
/// Never log a credential: `Secret` prints as `<redacted>`, but a revealed value would be stored.
public struct JournalLogHandler: LogHandler {
    /// The logger's label (usually the module or part, e.g. `traffic-police.intake`).
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
        let fields = JournalFields.fields(event: event, label: label, metadata: merged)
        do {
            try Journal.send(fields)
        } catch {
            // journald refused the entry (e.g. too large): keep it on stderr rather than lose it.
            StderrLogHandler.write(StderrLogHandler.line(event: event, label: label, metadata: merged))
        }
    }
}
