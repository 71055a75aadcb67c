/// Why spool bytes could not be encoded or read.
public enum SpoolRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A record that is not the torn end of the file is damaged: `offset` is where it starts.
    case corrupt(offset: Int, reason: String)
    /// A body too large for one record.
    case bodyTooLarge(bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case .corrupt(let offset, let reason): "corrupt spool record at byte offset \(offset): \(reason)"
        case .bodyTooLarge(let bytes, let limit): "a spool record body of \(bytes) bytes passes the limit of \(limit)"
        }
    }
}
