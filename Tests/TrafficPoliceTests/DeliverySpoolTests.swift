import Foundation
import Testing
import TrafficPolice
import TrafficPoliceCore

/// A sink that keeps what it was given, optionally failing once it holds `failAfter` deliveries.
actor RecordingSink: DeliverySink {
    private(set) var deliveries: [WebhookDelivery] = []
    private let failAfter: Int?

    init(failAfter: Int? = nil) { self.failAfter = failAfter }

    struct Refused: Error {}

    func enqueue(_ delivery: WebhookDelivery) async throws -> EnqueueResult {
        if let failAfter, deliveries.count >= failAfter { throw Refused() }
        if deliveries.contains(where: { $0.dedupeKey == delivery.dedupeKey }) { return .duplicate }
        deliveries.append(delivery)
        return .enqueued(jobID: "\(deliveries.count)")
    }
}

/// Spools in fresh temporary directories.
enum SpoolTesting {
    static func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tp-spool-\(UUID().uuidString)").path
    }

    static func delivery(_ index: Int) -> WebhookDelivery {
        WebhookDelivery(
            platform: Platform.allCases[index % Platform.allCases.count], dedupeKey: "spool-test-\(index)",
            kind: "guest.registered",
            body: #"{"id":"gst-\#(index)","name":"Zoë Ünal 東京 🎟️ \#(index)","note":"line\nbreak \"quoted\""}"#,
            receivedAtMilliseconds: 1_700_000_000_000 + Int64(index))
    }

    static func open(_ directory: String, maxBytes: Int = 256 << 20) async throws -> DeliverySpool {
        try await DeliverySpool(configuration: .init(directory: directory, maxBytes: maxBytes))
    }

    static func fileBytes(_ directory: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/" + DeliverySpool.fileName)))
    }

    static func write(_ bytes: [UInt8], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + DeliverySpool.fileName))
    }

    /// Everything in the spool at `directory`, read by replaying into a fresh sink (then closed).
    static func contents(_ directory: String) async throws -> [WebhookDelivery] {
        let spool = try await open(directory)
        let sink = RecordingSink()
        _ = try await spool.replay(into: sink)
        await spool.close()
        return await sink.deliveries
    }

    static func enqueue(_ range: Range<Int>, into spool: DeliverySpool) async throws {
        for index in range { _ = try await spool.enqueue(delivery(index)) }
    }

    static func remove(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite struct DeliverySpoolTests {
    @Test func aThousandDeliveriesRoundTripInOrder() async throws {
        let root = SpoolTesting.directory()
        let directory = root + "/nested/state"
        defer { SpoolTesting.remove(root) }
        let spool = try await SpoolTesting.open(directory)
        #expect(spool.opened == SpoolOpenReport(records: 0, bytes: 0, droppedBytes: 0))
        try await SpoolTesting.enqueue(0..<1000, into: spool)
        #expect(spool.count == 1000)
        #expect(spool.fsyncs == 1000, "one at a time, each enqueue waits for its own fsync")
        let size = spool.bytes
        #expect(try SpoolTesting.fileBytes(directory).count == size)
        await spool.close()

        var info = stat()
        let directoryFound = stat(directory, &info) == 0
        let directoryMode = info.st_mode & 0o777
        #expect(directoryFound && directoryMode == 0o700)
        let fileFound = stat(directory + "/" + DeliverySpool.fileName, &info) == 0
        let fileMode = info.st_mode & 0o777
        #expect(fileFound && fileMode == 0o600)

        let reopened = try await SpoolTesting.open(directory)
        #expect(reopened.opened == SpoolOpenReport(records: 1000, bytes: size, droppedBytes: 0))
        #expect(reopened.count == 1000)
        let sink = RecordingSink()
        let report = try await reopened.replay(into: sink)
        #expect(report == ReplayReport(replayed: 1000, enqueued: 1000, duplicates: 0, bytes: size))
        #expect(await sink.deliveries == (0..<1000).map(SpoolTesting.delivery))
        await reopened.close()
    }

    @Test func concurrentEnqueuesAreAllKeptOnce() async throws {
        let directory = SpoolTesting.directory()
        defer { SpoolTesting.remove(directory) }
        let spool = try await DeliverySpool(configuration: .init(directory: directory, groupCommitDelay: .milliseconds(2)))
        let results = try await withThrowingTaskGroup(of: EnqueueResult.self) { group in
            for index in 0..<200 { group.addTask { try await spool.enqueue(SpoolTesting.delivery(index)) } }
            return try await group.reduce(into: [EnqueueResult]()) { $0.append($1) }
        }
        #expect(Set(results).count == 200)
        #expect(results.allSatisfy { if case .enqueued = $0 { true } else { false } })
        // Group commit: enqueues that appended while an fsync ran share the next one.
        #expect(spool.fsyncs >= 1 && spool.fsyncs < 200)
        await spool.close()
        let kept = try await SpoolTesting.contents(directory)
        #expect(kept.count == 200)
        #expect(Set(kept) == Set((0..<200).map(SpoolTesting.delivery)))
    }

    /// Cuts 1...(whole record) bytes off the last record: the records before it survive, it is gone.
    @Test func aTornLastRecordIsCutOnOpen() async throws {
        let original = SpoolTesting.directory()
        defer { SpoolTesting.remove(original) }
        let spool = try await SpoolTesting.open(original)
        try await SpoolTesting.enqueue(0..<20, into: spool)
        await spool.close()
        let bytes = try SpoolTesting.fileBytes(original)
        let lastStart = try #require(try SpoolRecord.scan(bytes).bodies.last).lowerBound - SpoolRecord.headerSize
        let lastSize = bytes.count - lastStart

        var generator = SplitMix64(seed: 2026)
        let cuts = [1, SpoolRecord.headerSize - 1, SpoolRecord.headerSize, lastSize - 1, lastSize]
            + (0..<5).map { _ in Int.random(in: 1...lastSize, using: &generator) }
        for cut in cuts {
            let directory = SpoolTesting.directory()
            defer { SpoolTesting.remove(directory) }
            try SpoolTesting.write(Array(bytes.dropLast(cut)), to: directory)
            let torn = try await SpoolTesting.open(directory)
            #expect(torn.opened == SpoolOpenReport(records: 19, bytes: lastStart, droppedBytes: lastSize - cut), "cut \(cut)")
            #expect(try SpoolTesting.fileBytes(directory) == Array(bytes[..<lastStart]))
            // The spool goes on appending after the cut.
            _ = try await torn.enqueue(SpoolTesting.delivery(99))
            await torn.close()
            #expect(try await SpoolTesting.contents(directory) == (0..<19).map(SpoolTesting.delivery) + [SpoolTesting.delivery(99)])
        }
    }

    @Test func aCorruptRecordInTheMiddleIsAnErrorWithItsOffset() async throws {
        let directory = SpoolTesting.directory()
        defer { SpoolTesting.remove(directory) }
        let spool = try await SpoolTesting.open(directory)
        try await SpoolTesting.enqueue(0..<10, into: spool)
        await spool.close()
        let bytes = try SpoolTesting.fileBytes(directory)
        let fifth = try SpoolRecord.scan(bytes).bodies[4]
        for position in [fifth.lowerBound - SpoolRecord.headerSize + 5, fifth.lowerBound + 3] {
            var damaged = bytes
            damaged[position] ^= 0x40
            try SpoolTesting.write(damaged, to: directory)
            let error = await #expect(throws: SpoolError.self) { try await SpoolTesting.open(directory) }
            guard case .corrupt(let offset, _) = error else {
                Issue.record("expected corrupt, got \(String(describing: error))")
                continue
            }
            #expect(offset == fifth.lowerBound - SpoolRecord.headerSize)
            #expect(try SpoolTesting.fileBytes(directory) == damaged, "the file is left for an operator")
        }
    }

    @Test func aFullSpoolRefusesAndWritesNothing() async throws {
        let directory = SpoolTesting.directory()
        defer { SpoolTesting.remove(directory) }
        let recordSize = try SpoolRecord.encode(JSONEncoder().encode(SpoolTesting.delivery(0))).count
        let spool = try await SpoolTesting.open(directory, maxBytes: recordSize * 3 + recordSize / 2)
        try await SpoolTesting.enqueue(0..<3, into: spool)
        let before = try SpoolTesting.fileBytes(directory)
        await #expect(throws: SpoolError.full(bytes: before.count, limit: recordSize * 3 + recordSize / 2)) {
            try await spool.enqueue(SpoolTesting.delivery(3))
        }
        #expect(spool.count == 3)
        #expect(spool.bytes == before.count)
        #expect(try SpoolTesting.fileBytes(directory) == before)
        // Replay makes room again.
        _ = try await spool.replay(into: RecordingSink())
        _ = try await spool.enqueue(SpoolTesting.delivery(3))
        await spool.close()
        #expect(try await SpoolTesting.contents(directory) == [SpoolTesting.delivery(3)])
    }

    @Test func replayHandsEverythingOnThenEmptiesTheFile() async throws {
        let directory = SpoolTesting.directory()
        defer { SpoolTesting.remove(directory) }
        let spool = try await SpoolTesting.open(directory)
        try await SpoolTesting.enqueue(0..<30, into: spool)
        let sink = RecordingSink()
        _ = try await sink.enqueue(SpoolTesting.delivery(7))
        let report = try await spool.replay(into: sink)
        #expect(report.replayed == 30 && report.enqueued == 29 && report.duplicates == 1)
        #expect(await sink.deliveries.count == 30)
        #expect(spool.count == 0 && spool.bytes == 0)
        #expect(try SpoolTesting.fileBytes(directory).isEmpty)
        _ = try await spool.enqueue(SpoolTesting.delivery(30))
        await spool.close()
        #expect(try await SpoolTesting.contents(directory) == [SpoolTesting.delivery(30)])
    }

    @Test func aReplayWhoseSinkFailsLeavesTheFileUnchanged() async throws {
        let directory = SpoolTesting.directory()
        defer { SpoolTesting.remove(directory) }
        let spool = try await SpoolTesting.open(directory)
        try await SpoolTesting.enqueue(0..<10, into: spool)
        let before = try SpoolTesting.fileBytes(directory)
        let failing = RecordingSink(failAfter: 4)
        await #expect(throws: RecordingSink.Refused.self) { try await spool.replay(into: failing) }
        #expect(await failing.deliveries == (0..<4).map(SpoolTesting.delivery))
        #expect(try SpoolTesting.fileBytes(directory) == before)
        #expect(spool.count == 10)
        // A later replay repeats the first four, which the sink's dedupe absorbs.
        let retry = RecordingSink()
        _ = try await retry.enqueue(SpoolTesting.delivery(0))
        let report = try await spool.replay(into: retry)
        #expect(report.replayed == 10 && report.duplicates == 1)
        #expect(try SpoolTesting.fileBytes(directory).isEmpty)
        await spool.close()
    }

    @Test func aRecordThatIsNotADeliveryStopsReplayWithItsOffset() async throws {
        let directory = SpoolTesting.directory()
        defer { SpoolTesting.remove(directory) }
        let first = try SpoolRecord.encode(JSONEncoder().encode(SpoolTesting.delivery(0)))
        let bytes = first + (try SpoolRecord.encode(Array("not json".utf8)))
        try SpoolTesting.write(bytes, to: directory)
        let spool = try await SpoolTesting.open(directory)
        #expect(spool.opened.records == 2)
        let error = await #expect(throws: SpoolError.self) { try await spool.replay(into: RecordingSink()) }
        guard case .undecodable(let offset, _) = error else {
            Issue.record("expected undecodable, got \(String(describing: error))")
            return
        }
        #expect(offset == first.count)
        #expect(try SpoolTesting.fileBytes(directory) == bytes)
        await spool.close()
    }

    /// kill -9 after fsync: the file's bytes, copied while the spool is still open, open whole.
    @Test func aCopyTakenWhileOpenReopensWhole() async throws {
        let directory = SpoolTesting.directory()
        let copy = SpoolTesting.directory()
        defer {
            SpoolTesting.remove(directory)
            SpoolTesting.remove(copy)
        }
        let spool = try await SpoolTesting.open(directory)
        try await SpoolTesting.enqueue(0..<25, into: spool)
        try SpoolTesting.write(try SpoolTesting.fileBytes(directory), to: copy)
        #expect(try await SpoolTesting.contents(copy) == (0..<25).map(SpoolTesting.delivery))
        await spool.close()
    }

    @Test func aSecondSpoolOnTheSameDirectoryIsRefused() async throws {
        let directory = SpoolTesting.directory()
        defer { SpoolTesting.remove(directory) }
        let spool = try await SpoolTesting.open(directory)
        await #expect(throws: SpoolError.locked(path: directory + "/" + DeliverySpool.fileName)) {
            try await SpoolTesting.open(directory)
        }
        await spool.close()
        await #expect(throws: SpoolError.closed) { try await spool.enqueue(SpoolTesting.delivery(0)) }
        let again = try await SpoolTesting.open(directory)
        await again.close()
    }
}
