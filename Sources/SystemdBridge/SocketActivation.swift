import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// sd_listen_fds(3) socket activation.
public enum SocketActivation {
    /// Descriptors passed by systemd: sd_listen_fds_with_names(unset_environment) — (fd, name) pairs,
    /// fds from SD_LISTEN_FDS_START; empty when not socket-activated or LISTEN_PID is not us.
    /// Names default to "unknown" when LISTEN_FDNAMES is absent (as libsystemd does).
    public static func listenedDescriptors(unsetEnvironment: Bool = true) -> [(fd: Int32, name: String)] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = sd_listen_fds_with_names(unsetEnvironment ? 1 : 0, &names)
        defer {
            if let names {
                var index = 0
                while let name = names[index] {
                    free(name)
                    index += 1
                }
                free(names)
            }
        }
        guard count > 0 else { return [] }
        return (0..<count).map { index in
            let name = names?[Int(index)].map { String(cString: $0) } ?? "unknown"
            return (fd: Int32(SD_LISTEN_FDS_START) + index, name: name)
        }
    }
}
