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
