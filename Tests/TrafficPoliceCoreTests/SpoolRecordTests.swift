import Testing
import TrafficPoliceCore

@Suite struct SpoolRecordTests {
    /// Published CRC-32C check values (RFC 3720 appendix B.4 and the standard "123456789" check).
    @Test func crc32cMatchesKnownVectors() {
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        // A non-contiguous collection takes the copying path.
        #expect(CRC32C.checksum(UInt8(0)...UInt8(31)) == 0x46DD_794E)
        #expect(CRC32C.checksum((0...31).reversed().map(UInt8.init)) == 0x113F_DB5C)
        let text = Array("The quick brown fox jumps over the lazy dog".utf8)
        #expect(CRC32C.checksum(text[20...], continuing: CRC32C.checksum(text[..<20])) == CRC32C.checksum(text))
    }

    static func file(_ bodies: [[UInt8]]) throws -> (bytes: [UInt8], offsets: [Int]) {
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        for body in bodies {
            offsets.append(bytes.count)
            bytes += try SpoolRecord.encode(body)
        }
        return (bytes, offsets)
    }

    static let bodies: [[UInt8]] = (0..<6).map { index in Array("{\"n\":\(index),\"name\":\"Zoë ☕️ 東京 \(index)\"}".utf8) }

    @Test func recordsRoundTrip() throws {
        var generator = SplitMix64(seed: 7)
        let bodies = Self.bodies + (0..<50).map { _ in
            (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        let (bytes, offsets) = try Self.file(bodies)
        let scan = try SpoolRecord.scan(bytes)
        #expect(scan.bodies.map { Array(bytes[$0]) } == bodies)
        #expect(scan.bodies.map { $0.lowerBound - SpoolRecord.headerSize } == offsets)
        #expect(scan.validLength == bytes.count)
        #expect(scan.tornBytes == 0)
        #expect(Array(bytes[0..<4]) == SpoolRecord.magic)
    }

    @Test func everyCutOfTheLastRecordIsTorn() throws {
        let (bytes, offsets) = try Self.file(Self.bodies)
        let last = try #require(offsets.last)
        for cut in 1...(bytes.count - last) {
            let scan = try SpoolRecord.scan(Array(bytes.dropLast(cut)))
            #expect(scan.bodies.count == Self.bodies.count - 1)
            #expect(scan.validLength == last)
            #expect(scan.tornBytes == bytes.count - last - cut)
        }
    }

    @Test func aBadBodyChecksumOnTheLastRecordIsTorn() throws {
        var (bytes, offsets) = try Self.file(Self.bodies)
        bytes[bytes.count - 1] ^= 0x01
        let scan = try SpoolRecord.scan(bytes)
        #expect(scan.bodies.count == Self.bodies.count - 1)
        #expect(scan.tornBytes == bytes.count - (offsets.last ?? 0))
    }

    @Test func zeroBytesAfterTheLastRecordAreTorn() throws {
        let (bytes, _) = try Self.file(Self.bodies)
        let scan = try SpoolRecord.scan(bytes + [UInt8](repeating: 0, count: 100), baseOffset: 10)
        #expect(scan.bodies.count == Self.bodies.count)
        #expect(scan.validLength == bytes.count)
        #expect(scan.tornBytes == 100)
    }

    /// Any damaged byte in any record but the last is an error naming that record's offset.
    @Test func everyDamagedByteInTheMiddleIsReportedWithItsOffset() throws {
        let (bytes, offsets) = try Self.file(Self.bodies)
        let last = try #require(offsets.last)
        for position in 0..<last {
            var damaged = bytes
            damaged[position] ^= 0x20
            let record = try #require(offsets.last { $0 <= position })
            let error = #expect(throws: SpoolRecordError.self) { try SpoolRecord.scan(damaged, baseOffset: 1000) }
            guard case .corrupt(let offset, _) = error else {
                Issue.record("byte \(position): \(String(describing: error))")
                continue
            }
            #expect(offset == 1000 + record, "byte \(position)")
        }
    }

    @Test func oversizedBodiesAreRefused() {
        #expect(throws: SpoolRecordError.bodyTooLarge(bytes: SpoolRecord.maxBodyBytes + 1, limit: SpoolRecord.maxBodyBytes)) {
            try SpoolRecord.encode(repeatElement(UInt8(0), count: SpoolRecord.maxBodyBytes + 1))
        }
    }
}
