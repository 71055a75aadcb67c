import RedisBridge

/// Why a reservation step could not run.
public enum ReservationError: Error, Sendable, CustomStringConvertible {
    /// The event's counters are not in Redis (never loaded, or Redis lost them): rebuild from the ledger.
    case eventNotLoaded(String)
    /// A script answered something other than its documented reply.
    case unexpectedReply(String)
    /// Redis refused or could not be reached.
    case redis(RedisError)

    public var description: String {
        switch self {
        case .eventNotLoaded(let event): "the counters of event \(event) are not loaded in Redis"
        case .unexpectedReply(let reply): "unexpected reply from a reservation script: \(reply)"
        case .redis(let error): "Redis: \(error)"
        }
    }
}
