import TrafficPoliceCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the spool could not do what was asked.
public enum SpoolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Appending would take the file past its limit: intake must answer 503 so the platform retries
    /// later. `bytes` is what the file holds now; nothing was written.
    case full(bytes: Int, limit: Int)
    /// A record in the file (not its torn end) is damaged; the file is left as it is for an operator.
    case corrupt(offset: Int, reason: String)
    /// A record's body is intact but is not a delivery.
    case undecodable(offset: Int, reason: String)
    /// A delivery too large for one record.
    case recordTooLarge(bytes: Int, limit: Int)
    /// A system call failed (`errno` from the C library).
    case io(operation: String, path: String, errno: Int32)
    /// Another process holds the spool file's lock.
    case locked(path: String)
    /// An fsync failed earlier: what the kernel kept is unknown, so the spool accepts nothing more
    /// until it is reopened.
    case unusable(String)
    /// ``DeliverySpool/replay(into:)`` is already running.
    case replayInProgress
    /// The spool was closed.
    case closed

    public var description: String {
        switch self {
        case .full(let bytes, let limit):
            "the spool is full: it holds \(bytes) bytes and the next delivery would pass its limit of \(limit)"
        case .corrupt(let offset, let reason): "corrupt spool record at byte offset \(offset): \(reason)"
        case .undecodable(let offset, let reason): "the spool record at byte offset \(offset) is not a delivery: \(reason)"
        case .recordTooLarge(let bytes, let limit): "a delivery of \(bytes) bytes passes the spool's record limit of \(limit)"
        case .io(let operation, let path, let code): "\(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .locked(let path): "the spool \(path) is in use by another process"
        case .unusable(let reason): "the spool is unusable until reopened: \(reason)"
        case .replayInProgress: "a spool replay is already running"
        case .closed: "the spool is closed"
        }
    }

    init(_ error: SpoolRecordError) {
        switch error {
        case .corrupt(let offset, let reason): self = .corrupt(offset: offset, reason: reason)
        case .bodyTooLarge(let bytes, let limit): self = .recordTooLarge(bytes: bytes, limit: limit)
        }
    }
}
