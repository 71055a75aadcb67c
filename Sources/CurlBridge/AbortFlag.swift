import Synchronization

/// A one-way flag set from any thread and polled by libcurl's progress callback.
final class AbortFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Whether `set()` has been called.
    var isSet: Bool { value.load(ordering: .acquiring) }

    /// Raises the flag; in-flight transfers polling it abort at their next progress call.
    func set() { value.store(true, ordering: .releasing) }
}
