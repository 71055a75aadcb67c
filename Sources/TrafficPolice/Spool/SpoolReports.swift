/// What opening the spool found.
public struct SpoolOpenReport: Sendable, Hashable {
    /// Whole records in the file.
    public var records: Int
    /// The file's size after any torn end was cut.
    public var bytes: Int
    /// Bytes of a torn last record cut from the end (0 when the file ended cleanly).
    public var droppedBytes: Int

    public init(records: Int, bytes: Int, droppedBytes: Int) {
        self.records = records
        self.bytes = bytes
        self.droppedBytes = droppedBytes
    }
}

/// What ``DeliverySpool/replay(into:)`` handed on.
public struct ReplayReport: Sendable, Hashable {
    /// Records read and given to the sink.
    public var replayed: Int = 0
    /// Of those, the ones the sink took as new.
    public var enqueued: Int = 0
    /// Of those, the ones the sink already had.
    public var duplicates: Int = 0
    /// Bytes the file held before it was emptied.
    public var bytes: Int = 0

    public init(replayed: Int = 0, enqueued: Int = 0, duplicates: Int = 0, bytes: Int = 0) {
        self.replayed = replayed
        self.enqueued = enqueued
        self.duplicates = duplicates
        self.bytes = bytes
    }
}
