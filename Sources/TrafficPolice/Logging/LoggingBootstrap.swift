import Logging
import SystemdBridge

/// Chooses the process's log handler once, at start-up: journald when stderr is connected to it
/// (`JOURNAL_STREAM` matches fd 2, i.e. running under systemd), plain stderr lines otherwise.
public enum LoggingBootstrap {
    /// The handler factory for `level`; `journal` defaults to `Journal.isConnected`.
    public static func factory(
        level: Logger.Level, journal: Bool = Journal.isConnected
    ) -> @Sendable (String) -> any LogHandler {
        if journal {
            return { label in JournalLogHandler(label: label, level: level) }
        }
        return { label in StderrLogHandler(label: label, level: level) }
    }

    /// Whether stderr is connected to journald (running under systemd).
    public static var isJournalConnected: Bool { Journal.isConnected }

    /// `LoggingSystem.bootstrap` with `factory(level:)`. swift-log allows this once per process:
    /// call it first thing in `main` (tests use `factory` instead).
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap(factory(level: level))
    }
}
