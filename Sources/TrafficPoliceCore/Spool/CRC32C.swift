/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven: the checksum of spool records.
public enum CRC32C {
    /// The 256-entry lookup table for one byte at a time.
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }

    /// The checksum of `bytes`; pass an earlier result as `previous` to continue over more bytes.
    public static func checksum(_ bytes: some Collection<UInt8>, continuing previous: UInt32 = 0) -> UInt32 {
        let fast = bytes.withContiguousStorageIfAvailable { buffer in update(~previous, buffer) }
        if let fast { return ~fast }
        return ~Array(bytes).withUnsafeBufferPointer { update(~previous, $0) }
    }

    private static func update(_ start: UInt32, _ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var crc = start
            for byte in buffer {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
            return crc
        }
    }
}
