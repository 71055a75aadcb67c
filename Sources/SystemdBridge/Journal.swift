import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Structured logging to journald (sd_journal_sendv) and detection of a journald stderr.
public enum Journal {
    /// Whether stderr is connected to journald (JOURNAL_STREAM is set and matches fd 2's device:inode).
    public static var isConnected: Bool {
        guard let raw = getenv("JOURNAL_STREAM") else { return false }
        let parts = String(cString: raw).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// One entry via sd_journal_sendv; each field "NAME=value" (names: upper-case letters, digits,
    /// '_', not starting with '_'; values may contain newlines — sendv handles that). Throws on an
    /// error return or an invalid name (EINVAL; see `fieldName(_:)`). libsystemd adds
    /// SYSLOG_IDENTIFIER (the program name) unless given. A 0 return does not prove delivery:
    /// libsystemd reports success even when journald is absent.
    public static func send(_ fields: [(name: String, value: String)]) throws {
        for field in fields where !isValidFieldName(field.name) {
            throw SystemdError(errno: EINVAL, message: "invalid journal field name \(String(reflecting: field.name))")
        }
        guard !fields.isEmpty else { return }
        let buffers = fields.map { field -> UnsafeMutableRawBufferPointer in
            let bytes = Array("\(field.name)=".utf8) + Array(field.value.utf8)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let vectors = buffers.map { iovec(iov_base: $0.baseAddress, iov_len: $0.count) }
        let result = vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        if result < 0 { throw SystemdError(call: "sd_journal_sendv", result: result) }
    }

    /// One entry with MESSAGE, PRIORITY (syslog level, 0 emerg … 7 debug; default 6 info) and
    /// extra `fields`, whose names are normalised with `fieldName(_:)`.
    public static func send(
        _ message: String, priority: Int = 6, fields: [(name: String, value: String)] = []
    ) throws {
        var all: [(name: String, value: String)] = [
            (name: "MESSAGE", value: message), (name: "PRIORITY", value: String(min(7, max(0, priority)))),
        ]
        all += fields.map { (name: fieldName($0.name), value: $0.value) }
        try send(all)
    }

    /// Normalises a name to a journald field name: upper-cases, maps other characters to '_', strips
    /// leading '_', prefixes digits-first names with "F_" (empty names become "FIELD"), and keeps at
    /// most 64 characters; e.g. "event_id" -> "EVENT_ID", "order-id" -> "ORDER_ID".
    public static func fieldName(_ key: String) -> String {
        var bytes = key.uppercased().unicodeScalars.map { scalar -> UInt8 in
            guard scalar.isASCII else { return UInt8(ascii: "_") }
            let byte = UInt8(scalar.value)
            return isFieldByte(byte) ? byte : UInt8(ascii: "_")
        }
        while bytes.first == UInt8(ascii: "_") { bytes.removeFirst() }
        if bytes.isEmpty { return "FIELD" }
        if let first = bytes.first, isDigit(first) { bytes.insert(contentsOf: Array("F_".utf8), at: 0) }
        return String(decoding: bytes.prefix(64), as: UTF8.self)
    }

    /// Whether `name` is already a valid journald field name.
    public static func isValidFieldName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 64, first != UInt8(ascii: "_"), !isDigit(first) else {
            return false
        }
        return bytes.allSatisfy(isFieldByte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isFieldByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || isDigit(byte) || byte == UInt8(ascii: "_")
    }
}
