import CSystemd

/// The sd_notify(3) readiness / status / watchdog protocol.
public enum SystemdNotifier {
    /// sd_notify(0, state) — e.g. "READY=1", "STATUS=...", "STOPPING=1", "WATCHDOG=1". Returns true
    /// when a datagram was sent, false when NOTIFY_SOCKET is unset; throws on a send error.
    @discardableResult
    public static func notify(_ state: String) throws -> Bool {
        let result = sd_notify(0, state)
        if result < 0 { throw SystemdError(call: "sd_notify", result: result) }
        return result > 0
    }

    /// sd_watchdog_enabled(0, &usec): the WATCHDOG_USEC interval when the watchdog is on for this
    /// process (honours WATCHDOG_PID), else nil.
    public static func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(clamping: usec))
    }
}
