#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed libsystemd call: its negative-errno return, made positive.
public struct SystemdError: Error, Sendable, CustomStringConvertible {
    /// The errno value (positive).
    public var errno: Int32
    /// What failed, with the strerror text.
    public var message: String

    /// Creates an error.
    public init(errno: Int32, message: String) {
        self.errno = errno
        self.message = message
    }

    /// An error for the libsystemd return value `result` (a negative errno) of `call`.
    init(call: String, result: Int32) {
        let code = result < 0 ? -result : result
        self.init(errno: code, message: "\(call): \(String(cString: strerror(code)))")
    }

    public var description: String { "SystemdError(errno \(errno)): \(message)" }
}
