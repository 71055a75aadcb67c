import Logging
import Synchronization

/// Records what a logger logs.
final class LineCollector: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var platform: String?
    }

    private let storage = Mutex<[Line]>([])
    var lines: [Line] { storage.withLock { $0 } }

    func handler() -> Handler { Handler(collector: self) }

    struct Handler: LogHandler {
        let collector: LineCollector
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let line = Line(
                level: event.level, message: event.message.description,
                platform: event.metadata?["platform"].map { "\($0)" })
            collector.storage.withLock { $0.append(line) }
        }
    }
}
