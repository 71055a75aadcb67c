import TrafficPoliceCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The open spool file and its POSIX calls (not Sendable: used only on the spool's own thread).
///
/// Offsets handed out are logical: `base` + the physical offset, where `base` grows by the file's size
/// each time replay empties it, so "durable up to" marks never move backwards.
final class SpoolFile {
    private var descriptor: Int32 = -1
    private(set) var path = ""
    /// Bytes in the file.
    private(set) var size = 0
    /// Whole records in the file.
    private(set) var count = 0
    /// The logical offset of the file's first byte.
    private(set) var base = 0
    /// fdatasync calls made for appends since the file was opened.
    private(set) var syncs = 0

    init() {}

    deinit { release() }

    /// The logical offset just past the file's last byte.
    var end: Int { base + size }

    /// Creates the directory (0700) and file (0600) when missing, takes the file's lock, scans it and
    /// cuts a torn last record.
    func load(directory: String, path: String) throws -> SpoolOpenReport {
        try makeDirectory(directory)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw SpoolError.io(operation: "open", path: path, errno: errno) }
        self.descriptor = descriptor
        self.path = path
        try lock(path: path)
        try syncDirectory(directory)
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw SpoolError.io(operation: "fstat", path: path, errno: errno) }
        size = Int(status.st_size)
        let bytes = try read(from: 0)
        let scan: SpoolScan
        do { scan = try SpoolRecord.scan(bytes) } catch { throw SpoolError(error) }
        if scan.tornBytes > 0 { try truncate(to: scan.validLength) }
        count = scan.bodies.count
        return SpoolOpenReport(records: count, bytes: size, droppedBytes: scan.tornBytes)
    }

    /// Takes the file's exclusive lock. A lock that stays taken for `lockPatience` belongs to another
    /// process; a shorter one is a child forked by this process (its copy of the descriptor holds
    /// the lock until it execs, `O_CLOEXEC` notwithstanding), so it is tried again every 10 ms.
    private func lock(path: String) throws {
        let deadline = monotonicMilliseconds() + Self.lockPatienceMilliseconds
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK, monotonicMilliseconds() < deadline else {
                release()
                throw code == EWOULDBLOCK ? SpoolError.locked(path: path) : SpoolError.io(operation: "flock", path: path, errno: code)
            }
            usleep(10_000)
        }
    }

    static let lockPatienceMilliseconds = 2_000

    private func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }

    /// The file's bytes from physical offset `start` to its end.
    func read(from start: Int) throws -> [UInt8] {
        let length = max(0, size - start)
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < length {
                let got = pread(descriptor, buffer.baseAddress.map { $0 + done }, length - done, off_t(start + done))
                if got < 0, errno == EINTR { continue }
                guard got > 0 else {
                    throw SpoolError.io(operation: "read", path: path, errno: got == 0 ? EIO : errno)
                }
                done += got
            }
        }
        return bytes
    }

    /// Writes `record` at the end unless the file would pass `limit`; returns the new logical end.
    /// A failed write is cut back off, so the file only ever holds whole records.
    func append(_ record: [UInt8], limit: Int) throws -> Int {
        guard size + record.count <= limit else { throw SpoolError.full(bytes: size, limit: limit) }
        do {
            try record.withUnsafeBytes { buffer in
                var done = 0
                while done < buffer.count {
                    let wrote = pwrite(descriptor, buffer.baseAddress.map { $0 + done }, buffer.count - done, off_t(size + done))
                    if wrote < 0, errno == EINTR { continue }
                    guard wrote > 0 else { throw SpoolError.io(operation: "write", path: path, errno: wrote == 0 ? EIO : errno) }
                    done += wrote
                }
            }
        } catch {
            guard ftruncate(descriptor, off_t(size)) == 0 else {
                throw SpoolError.unusable("a failed write could not be cut back: \(error)")
            }
            throw error
        }
        size += record.count
        count += 1
        return end
    }

    /// fdatasync; returns the logical end it made durable.
    func sync() throws -> Int {
        let covered = end
        syncs += 1
        guard fdatasync(descriptor) == 0 else { throw SpoolError.io(operation: "fdatasync", path: path, errno: errno) }
        return covered
    }

    /// Empties the file (and syncs) when its size is still `expectedSize`; returns the new logical end,
    /// or nil when records were appended meanwhile.
    func emptyIfUnchanged(expectedSize: Int) throws -> Int? {
        guard size == expectedSize else { return nil }
        guard ftruncate(descriptor, 0) == 0 else { throw SpoolError.io(operation: "ftruncate", path: path, errno: errno) }
        base += size
        size = 0
        count = 0
        guard fdatasync(descriptor) == 0 else { throw SpoolError.io(operation: "fdatasync", path: path, errno: errno) }
        return end
    }

    /// Closes the file (which drops its lock). Idempotent.
    func release() {
        guard descriptor >= 0 else { return }
        _ = close(descriptor)
        descriptor = -1
    }

    private func truncate(to length: Int) throws {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw SpoolError.io(operation: "ftruncate", path: path, errno: errno) }
        size = length
        guard fdatasync(descriptor) == 0 else { throw SpoolError.io(operation: "fdatasync", path: path, errno: errno) }
    }

    private func makeDirectory(_ directory: String) throws {
        var prefix = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw SpoolError.io(operation: "mkdir", path: prefix, errno: errno)
            }
        }
    }

    /// fsync on the directory, so a newly created file's entry survives a crash.
    private func syncDirectory(_ directory: String) throws {
        let handle = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard handle >= 0 else { throw SpoolError.io(operation: "open", path: directory, errno: errno) }
        defer { _ = close(handle) }
        guard fsync(handle) == 0 else { throw SpoolError.io(operation: "fsync", path: directory, errno: errno) }
    }
}
