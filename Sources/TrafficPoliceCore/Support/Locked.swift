import Synchronization

/// A value shared by concurrent tasks: a `Mutex` that escaping closures can capture by reference.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    /// Runs `body` with exclusive access to the value.
    public func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }

    /// A copy of the value.
    public var value: Value { mutex.withLock { $0 } }
}
