/// Where a server listens.
public enum SocketBinding: Sendable, Hashable {
    /// Bind this path (a stale socket file there is removed first), then chmod it to `mode`.
    /// The file is removed again on shutdown.
    case path(String, mode: UInt32 = 0o660)
    /// Adopt a socket that is already bound and listening, e.g. one systemd passed
    /// (`SocketActivation.listenedDescriptors()`). It is closed, not unlinked, on shutdown.
    case descriptor(Int32)
}
