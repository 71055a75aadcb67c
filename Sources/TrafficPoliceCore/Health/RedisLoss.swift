/// Whether Redis lost its data since the daemon last looked (G6), from what the daemon keeps there.
///
/// The daemon writes a marker key with a value of its choosing and remembers it with the server's
/// `run_id`. Redis lost data when the marker is gone or holds another value (an empty restart, a
/// flush, a failover to a replica that never had it, another daemon that saw the loss first), or
/// when the server restarted (`run_id` changed) without the append-only file: a snapshot restores
/// the marker but not what was written after it.
public enum RedisLoss {
    /// What the daemon remembered when it last wrote or saw its marker.
    public struct Stamp: Sendable, Hashable {
        public var marker: String
        public var runID: String

        public init(marker: String, runID: String) {
            self.marker = marker
            self.runID = runID
        }
    }

    /// What Redis shows now.
    public struct Observation: Sendable, Hashable {
        /// The marker key's value; nil when the key is missing.
        public var marker: String?
        /// `INFO server` `run_id`.
        public var runID: String
        /// `INFO persistence` `aof_enabled`: whether every write is appended to a file before it is answered.
        public var appendOnly: Bool

        public init(marker: String?, runID: String, appendOnly: Bool) {
            self.marker = marker
            self.runID = runID
            self.appendOnly = appendOnly
        }
    }

    /// The verdict.
    public enum Verdict: Sendable, Hashable, CustomStringConvertible {
        /// Nothing lost.
        case intact
        /// Data was lost, for this reason.
        case lost(String)

        public var description: String {
            switch self {
            case .intact: "intact"
            case .lost(let reason): "lost: \(reason)"
            }
        }
    }

    /// Compares what Redis shows with the daemon's stamp (nil: the daemon has none yet, so nothing
    /// can be judged lost).
    public static func judge(_ observed: Observation, against stamp: Stamp?) -> Verdict {
        guard let stamp else { return .intact }
        guard let marker = observed.marker else { return .lost("the marker key is gone") }
        guard marker == stamp.marker else { return .lost("the marker key holds another value (\(marker))") }
        if observed.runID != stamp.runID && !observed.appendOnly {
            return .lost("Redis restarted (run id \(stamp.runID) → \(observed.runID)) without an append-only file")
        }
        return .intact
    }
}
