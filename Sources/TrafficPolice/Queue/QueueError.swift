import RedisBridge

/// Why the queue could not do what was asked.
public enum QueueError: Error, Sendable, CustomStringConvertible {
    /// Redis did not answer, or answered with an error.
    case redis(RedisError)
    /// The stream holds `retention` jobs: intake must answer 503 so that the platform retries later.
    case full(String)
    /// Redis answered something the queue does not understand.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .redis(let error): "Redis: \(error)"
        case .full(let message): "the delivery queue is full: \(message)"
        case .unexpectedReply(let reply): "unexpected reply from Redis: \(reply)"
        }
    }
}
