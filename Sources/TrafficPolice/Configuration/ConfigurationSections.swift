import Foundation
import Logging

extension TrafficPoliceConfiguration {
    /// `[intake]`: the webhook HTTP server on its Unix socket, behind the reverse proxy.
    public struct Intake: Sendable, Hashable {
        /// `socket`: where it listens when not socket-activated. Default `/run/traffic-police/webhook.sock`.
        public var socketPath: String
        /// `max_body_bytes`: larger bodies are answered 413 before any signature check. Default 1 MiB.
        public var maxBodyBytes: Int
        /// `max_header_bytes`: the request line and headers together. Default 16 KiB.
        public var maxHeaderBytes: Int
        /// `idle_timeout_ms`: an idle keep-alive connection is closed after this. Default 75 s
        /// (longer than the proxy's upstream keepalive, so the proxy closes first).
        public var idleTimeout: Duration
        /// `read_timeout_ms`: the longest a request may take to arrive once started. Default 10 s.
        public var readTimeout: Duration
        /// `max_connections`: connections served at once; more wait in the listen backlog. Default 256.
        public var maxConnections: Int
    }

    /// `[startup]`: how `serve` waits for its dependencies before it signals readiness.
    public struct Startup: Sendable, Hashable {
        /// `timeout_ms`: how long Redis and PostgreSQL may stay unreachable at start before `serve`
        /// gives up with exit 69 (systemd restarts it). Default 50 s, below the unit's
        /// `TimeoutStartSec=60s`.
        public var timeout: Duration
    }

    /// `[admin]`: the admin API, dashboard and `/metrics`; never exposed through the proxy.
    public struct Admin: Sendable, Hashable {
        /// `socket`: default `/run/traffic-police/admin.sock`.
        public var socketPath: String
    }

    /// `[queue]`: the Redis-backed job queue's workers.
    public struct Queue: Sendable, Hashable {
        /// `workers`: concurrent workers applying deliveries. Default 4; 0 makes an intake-only
        /// instance that leaves the queued deliveries to other instances' workers.
        public var workers: Int
        /// `max_attempts`: a job that fails this many times goes to the dead letters. Default 8.
        public var maxAttempts: Int
    }

    /// `[rebalancer]`: moving unsold quota between platforms, publishing allocations, closing at the soft cap.
    public struct Rebalancer: Sendable, Hashable {
        /// `interval_ms`: the regular pass. Default 10 s; 0 is a static split (allocations are
        /// published and the platforms closed at the soft cap, but quota never moves).
        public var interval: Duration?
        /// `watch_interval_ms`: how often each event's counters are read. Default 250 ms.
        public var watchInterval: Duration
        /// `trigger_percent`: a platform that sold this share of its allocation triggers a pass at once. Default 80.
        public var triggerPercent: Int
        /// `velocity_window_ms`: the sales velocity's time constant. Default 60 s.
        public var velocityWindow: Duration
        /// `horizon_seconds`: how far ahead a platform's need is projected. Default 300.
        public var horizonSeconds: Int
        /// `minimum_reserve`: unsold tickets a platform keeps whatever its velocity. Default 5.
        public var minimumReserve: Int
    }

    /// `[spool]`: the local durable spool used in fail-safe.
    public struct Spool: Sendable, Hashable {
        /// `dir`: empty (the default) means `$STATE_DIRECTORY` (its first entry) or, when unset,
        /// `/var/lib/traffic-police`.
        public var directory: String
    }

    /// `[log]`.
    public struct Log: Sendable, Hashable {
        /// `level`: trace, debug, info, notice, warning, error or critical. Default info.
        public var level: Logger.Level
    }
}

extension TrafficPoliceConfiguration.Spool {
    /// The spool directory when `[spool] dir` is empty.
    public static func defaultDirectory(environment: [String: String]) -> String {
        if let state = environment["STATE_DIRECTORY"],
            let first = state.split(separator: ":").first(where: { $0.hasPrefix("/") })
        {
            return String(first)
        }
        return "/var/lib/traffic-police"
    }
}
