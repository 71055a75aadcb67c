/// What one running daemon reports of itself to the ledger every few seconds: its Redis health, so
/// that `traffic-police failsafe status` and the CLI's box office see every instance.
public struct DaemonInstanceReport: Sendable, Hashable, Codable {
    /// Unique per daemon process (the daemon chooses it).
    public var id: String
    public var hostname: String
    public var pid: Int
    /// Whether its sales are closed (fail-safe or recovering).
    public var failsafe: Bool
    /// `healthy`, `suspect`, `failsafe` or `recovering` (``RedisHealth/State/name``).
    public var state: String
    /// Its `STATUS=` line.
    public var status: String
    /// When its row was first written (ISO 8601, UTC); set by the ledger.
    public var startedAt: String?
    /// Since when it has been in `state` (ISO 8601, UTC); set by the ledger.
    public var stateSince: String?
    /// When it last reported (ISO 8601, UTC); set by the ledger.
    public var updatedAt: String?
    /// Milliseconds since it last reported, by the ledger's clock; set by the ledger.
    public var ageMs: Int64?

    public init(id: String, hostname: String, pid: Int, failsafe: Bool, state: String, status: String) {
        self.id = id
        self.hostname = hostname
        self.pid = pid
        self.failsafe = failsafe
        self.state = state
        self.status = status
    }

    /// The report of an instance whose watchdog stands at `health`.
    public init(id: String, hostname: String, pid: Int, health: RedisHealth) {
        self.init(
            id: id, hostname: hostname, pid: pid, failsafe: health.isFailsafe, state: health.state.name,
            status: health.status)
    }

    enum CodingKeys: String, CodingKey {
        case id, hostname, pid, failsafe, state, status
        case startedAt = "started_at"
        case stateSince = "state_since"
        case updatedAt = "updated_at"
        case ageMs = "age_ms"
    }
}

extension RedisHealth.State {
    /// `healthy`, `suspect`, `failsafe` or `recovering`.
    public var name: String {
        switch self {
        case .healthy: "healthy"
        case .suspect: "suspect"
        case .failsafe: "failsafe"
        case .recovering: "recovering"
        }
    }
}
