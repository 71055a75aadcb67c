import Foundation
import TrafficPoliceCore

/// The local durable spool intake writes deliveries to while Redis is down (G4, G5).
///
/// One append-only file, `deliveries.spool` in ``Configuration/directory``, one ``SpoolRecord`` per
/// delivery (checksummed header + JSON body). ``enqueue(_:)`` returns only after the record is on disk
/// (fdatasync); concurrent enqueues share an fsync (group commit: the first waiter syncs for everyone
/// who appended so far). All file calls run on the spool's own thread. When Redis is back,
/// ``replay(into:)`` hands every record to the queue and empties the file. Opening and replay read
/// the whole file into memory (at most ``Configuration/maxBytes``).
public actor DeliverySpool: DeliverySink {
    public nonisolated let configuration: Configuration
    /// What opening found (records, size, bytes of a torn end that were cut).
    public nonisolated let opened: SpoolOpenReport
    private let thread: SpoolThread
    /// The logical offset up to which the file is known to be on disk.
    private var durableEnd = 0
    private var isSyncing = false
    /// Enqueues waiting for an fsync: resumed with `true` when they must lead the next one.
    private var waiters: [(end: Int, continuation: CheckedContinuation<Bool, any Error>)] = []
    /// Set when an fsync failed: the spool refuses everything after it.
    private var failure: SpoolError?
    private var isReplaying = false

    /// Opens (or creates) the spool: scans the file, cuts a torn last record (see ``opened``) and
    /// throws ``SpoolError/corrupt(offset:reason:)`` for a damaged record anywhere else.
    public init(configuration: Configuration) async throws {
        let thread = SpoolThread()
        let directory = configuration.directory
        let path = configuration.path
        do {
            opened = try await thread.run { try $0.load(directory: directory, path: path) }
        } catch {
            await thread.stop()
            throw error
        }
        self.configuration = configuration
        self.thread = thread
        self.durableEnd = opened.bytes
    }

    /// Whole records in the file (including ones still waiting for their fsync).
    public nonisolated var count: Int { thread.count.load(ordering: .acquiring) }
    /// The file's size in bytes.
    public nonisolated var bytes: Int { thread.bytes.load(ordering: .acquiring) }
    /// fdatasync calls made for enqueues since opening (group commit makes it fewer than enqueues).
    public nonisolated var fsyncs: Int { thread.syncs.load(ordering: .acquiring) }

    /// Appends the delivery and returns once it is on disk, as `.enqueued(jobID: "spool-<offset>")`.
    /// The spool does not dedupe (the queue does on replay). Throws ``SpoolError/full(bytes:limit:)``,
    /// writing nothing, when the record would take the file past ``Configuration/maxBytes``.
    public func enqueue(_ delivery: WebhookDelivery) async throws -> EnqueueResult {
        if let failure { throw failure }
        let record: [UInt8]
        do { record = try SpoolRecord.encode(try JSONEncoder().encode(delivery)) } catch let error as SpoolRecordError {
            throw SpoolError(error)
        }
        let limit = configuration.maxBytes
        let end = try await thread.run { try $0.append(record, limit: limit) }
        try await waitUntilDurable(end)
        return .enqueued(jobID: "spool-\(end - record.count)")
    }

    /// Hands every record, in order, to `sink` (the queue dedupes), then empties the file and syncs.
    /// Records enqueued meanwhile are handed on too. When `sink` throws, nothing is removed: a later
    /// replay repeats what was handed on, which the queue's dedupe makes harmless.
    /// Allowed after a failed fsync too: handing the records to the queue is the way out of that.
    public func replay(into sink: any DeliverySink) async throws -> ReplayReport {
        guard !isReplaying else { throw SpoolError.replayInProgress }
        isReplaying = true
        defer { isReplaying = false }
        var report = ReplayReport()
        var start = 0
        while true {
            let from = start
            let bytes = try await thread.run { try $0.read(from: from) }
            report.bytes = start + bytes.count
            try await hand(bytes, at: start, to: sink, report: &report)
            let expected = report.bytes
            if let emptied = try await thread.run({ try $0.emptyIfUnchanged(expectedSize: expected) }) {
                // Everything before the cut is in the sink now, which is as good as on disk here.
                release(upTo: emptied)
                return report
            }
            start = expected
        }
    }

    /// Closes the file and stops the spool's thread; later calls throw ``SpoolError/closed``.
    public func close() async {
        await thread.stop()
    }

    // MARK: - Replay

    private func hand(_ bytes: [UInt8], at start: Int, to sink: any DeliverySink, report: inout ReplayReport) async throws {
        let scan: SpoolScan
        do { scan = try SpoolRecord.scan(bytes, baseOffset: start) } catch { throw SpoolError(error) }
        if scan.tornBytes > 0 {
            throw SpoolError.corrupt(offset: start + scan.validLength, reason: "record cut short")
        }
        let decoder = JSONDecoder()
        for body in scan.bodies {
            try Task.checkCancellation()
            let delivery: WebhookDelivery
            do { delivery = try decoder.decode(WebhookDelivery.self, from: Data(bytes[body])) } catch {
                throw SpoolError.undecodable(offset: start + body.lowerBound - SpoolRecord.headerSize, reason: "\(error)")
            }
            switch try await sink.enqueue(delivery) {
            case .enqueued: report.enqueued += 1
            case .duplicate: report.duplicates += 1
            }
            report.replayed += 1
        }
    }

    // MARK: - Group commit

    /// Waits until the file is on disk up to logical offset `end`. The first waiter with no fsync
    /// running leads: it (after ``Configuration/groupCommitDelay``) syncs for everyone appended so far,
    /// releases the waiters that covers, and hands the lead to the first one left.
    private func waitUntilDurable(_ end: Int) async throws {
        if let failure { throw failure }
        if durableEnd >= end { return }
        if isSyncing {
            let leads = try await withCheckedThrowingContinuation { waiters.append((end, $0)) }
            guard leads else { return }
        }
        isSyncing = true
        if configuration.groupCommitDelay > .zero {
            try? await Task.sleep(for: configuration.groupCommitDelay)
        }
        let synced: Int
        do {
            synced = try await thread.run { try $0.sync() }
        } catch {
            let failure = (error as? SpoolError) == .closed ? SpoolError.closed : .unusable("fsync failed: \(error)")
            self.failure = failure
            isSyncing = false
            let stranded = waiters
            waiters = []
            for waiter in stranded { waiter.continuation.resume(throwing: failure) }
            throw failure
        }
        release(upTo: synced)
        if waiters.isEmpty {
            isSyncing = false
        } else {
            waiters.removeFirst().continuation.resume(returning: true)
        }
    }

    /// Records the file as durable up to `end` and resumes the waiters that covers.
    private func release(upTo end: Int) {
        durableEnd = max(durableEnd, end)
        let covered = waiters.filter { $0.end <= durableEnd }
        waiters.removeAll { $0.end <= durableEnd }
        for waiter in covered { waiter.continuation.resume(returning: false) }
    }
}
