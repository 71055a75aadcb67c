/// The on-disk framing of one spool record (no I/O): a 16-byte header, then the body.
///
/// Header, little-endian: magic `TPS1` (4 bytes), body length (UInt32), CRC-32C of the body (UInt32),
/// CRC-32C of the 12 header bytes before it (UInt32). The header checksum means a damaged length is
/// never trusted, so a bad record in the middle of a file cannot pass for a torn end.
public enum SpoolRecord {
    /// Bytes before each body.
    public static let headerSize = 16
    /// The first four bytes of every record.
    public static let magic: [UInt8] = Array("TPS1".utf8)
    /// The largest body one record may hold (64 MiB).
    public static let maxBodyBytes = 64 << 20

    /// The record (header + body) for `body`.
    public static func encode(_ body: some Collection<UInt8>) throws(SpoolRecordError) -> [UInt8] {
        guard body.count <= maxBodyBytes else { throw .bodyTooLarge(bytes: body.count, limit: maxBodyBytes) }
        var record = magic
        record.reserveCapacity(headerSize + body.count)
        appendLittleEndian(UInt32(body.count), to: &record)
        appendLittleEndian(CRC32C.checksum(body), to: &record)
        appendLittleEndian(CRC32C.checksum(record), to: &record)
        record.append(contentsOf: body)
        return record
    }

    /// Reads consecutive records from `bytes` (the file from byte `baseOffset` on).
    ///
    /// A damaged record at the very end — a partial header, a body cut short, a bad body checksum on the
    /// last record, or a header followed only by zero bytes — is a torn write: it and everything after
    /// it are reported as `tornBytes`. Any other damage throws ``SpoolRecordError/corrupt(offset:reason:)``
    /// with the record's offset in the file; nothing is ever skipped.
    public static func scan(_ bytes: [UInt8], baseOffset: Int = 0) throws(SpoolRecordError) -> SpoolScan {
        var bodies: [Range<Int>] = []
        var offset = 0
        while offset < bytes.count {
            switch inspect(bytes, at: offset) {
            case .record(let body):
                bodies.append(body)
                offset = body.upperBound
            case .torn:
                return SpoolScan(bodies: bodies, validLength: offset, tornBytes: bytes.count - offset)
            case .corrupt(let reason):
                throw .corrupt(offset: baseOffset + offset, reason: reason)
            }
        }
        return SpoolScan(bodies: bodies, validLength: offset, tornBytes: 0)
    }

    private enum Inspection {
        case record(body: Range<Int>)
        case torn
        case corrupt(String)
    }

    private static func inspect(_ bytes: [UInt8], at offset: Int) -> Inspection {
        let remaining = bytes.count - offset
        guard remaining >= headerSize else { return .torn }
        let header = bytes[offset..<(offset + headerSize)]
        // A damaged header is a torn write only when nothing but zero bytes follow it.
        func tornOrCorrupt(_ reason: String) -> Inspection {
            bytes[offset...].allSatisfy { $0 == 0 } ? .torn : .corrupt(reason)
        }
        guard header.prefix(4).elementsEqual(magic) else { return tornOrCorrupt("bad magic") }
        guard CRC32C.checksum(header.prefix(12)) == littleEndian(bytes, at: offset + 12) else {
            return tornOrCorrupt("bad header checksum")
        }
        let length = Int(littleEndian(bytes, at: offset + 4))
        guard length <= maxBodyBytes else { return .corrupt("body length \(length) passes the limit") }
        let body = (offset + headerSize)..<(offset + headerSize + length)
        guard body.upperBound <= bytes.count else { return .torn }
        guard CRC32C.checksum(bytes[body]) == littleEndian(bytes, at: offset + 8) else {
            return body.upperBound == bytes.count ? .torn : .corrupt("bad body checksum")
        }
        return .record(body: body)
    }

    private static func appendLittleEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func littleEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { value, index in value | UInt32(bytes[offset + index]) << UInt32(8 * index) }
    }
}

/// What ``SpoolRecord/scan(_:baseOffset:)`` found.
public struct SpoolScan: Sendable, Hashable {
    /// The body of each whole record, in order, as index ranges into the scanned bytes.
    public var bodies: [Range<Int>]
    /// How many leading bytes hold whole records.
    public var validLength: Int
    /// Bytes of a torn last record after `validLength` (0 when the bytes end on a record boundary).
    public var tornBytes: Int

    public init(bodies: [Range<Int>], validLength: Int, tornBytes: Int) {
        self.bodies = bodies
        self.validLength = validLength
        self.tornBytes = tornBytes
    }
}
