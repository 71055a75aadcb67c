import SystemdBridge
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("SocketActivation", .timeLimit(.minutes(1)))
struct SocketActivationTests {
    /// Runs in a child process (an exit test): fds 3 and 4 of the shared test process may belong to
    /// other, concurrently running tests (and the lowest free descriptor is handed out to whoever
    /// opens next), so replacing them there would race. The child still parks whatever it finds at
    /// 3/4 (e.g. Swift Testing's back channel) above fd 100 and restores it before reporting.
    @Test func namedDescriptorsPassedBySystemd() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            exit(socketActivationChild())
        }
        let output = result.map { String(decoding: $0.standardOutputContent, as: UTF8.self) } ?? "<no result>"
        #expect(
            output.contains("descriptors=3:webhook,4:admin; cleared=true; cloexec=true; ports=match"),
            "child output: \(output)")
    }
}

extension SystemdEnvironmentTests {
    @Suite("SocketActivation environment")
    struct SocketActivationEnvironmentTests {
        @Test func notActivatedIsEmpty() {
            withEnvironment(["LISTEN_PID": nil, "LISTEN_FDS": nil, "LISTEN_FDNAMES": nil]) {
                #expect(SocketActivation.listenedDescriptors().isEmpty)
            }
        }

        @Test func otherPidIsEmpty() {
            let other = getpid() == 1 ? "2" : "1"
            withEnvironment(["LISTEN_PID": other, "LISTEN_FDS": "2", "LISTEN_FDNAMES": "webhook:admin"]) {
                #expect(SocketActivation.listenedDescriptors(unsetEnvironment: false).isEmpty)
            }
        }
    }
}

/// The child side: two listening TCP sockets moved to fds 3 and 4, LISTEN_* set for this pid.
/// Prints what it saw for the parent to check; returns the exit code (2 when set-up failed).
private func socketActivationChild() -> Int32 {
    func listener() -> (fd: Int32, port: UInt16)? {
        let raw = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard raw >= 0 else { return nil }
        // Move it above the range we are about to occupy, so it is never 3 or 4 itself.
        let fd = fcntl(raw, F_DUPFD_CLOEXEC, 100)
        close(raw)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 8) == 0, let port = localPort(fd) else { return nil }
        return (fd, port)
    }

    guard let first = listener(), let second = listener() else {
        print("could not create listening sockets: errno \(errno)")
        return 2
    }
    // Park whatever occupies 3 and 4, then install our sockets there.
    var parked: [Int32: Int32] = [:]
    for target: Int32 in [3, 4] where fcntl(target, F_GETFD) != -1 {
        parked[target] = fcntl(target, F_DUPFD_CLOEXEC, 100)
    }
    guard dup2(first.fd, 3) == 3, dup2(second.fd, 4) == 4 else {
        print("dup2 failed: errno \(errno)")
        return 2
    }
    setenv("LISTEN_PID", String(getpid()), 1)
    setenv("LISTEN_FDS", "2", 1)
    setenv("LISTEN_FDNAMES", "webhook:admin", 1)

    let descriptors = SocketActivation.listenedDescriptors()
    let environmentCleared = getenv("LISTEN_PID") == nil && getenv("LISTEN_FDS") == nil
        && getenv("LISTEN_FDNAMES") == nil
    let ports = (localPort(3), localPort(4))
    let cloexec = fcntl(3, F_GETFD) & FD_CLOEXEC != 0 && fcntl(4, F_GETFD) & FD_CLOEXEC != 0

    // Restore fds 3 and 4 before anything reports through them.
    for target: Int32 in [3, 4] {
        if let saved = parked[target], saved >= 0 {
            dup2(saved, target)
            close(saved)
        } else {
            close(target)
        }
    }
    close(first.fd)
    close(second.fd)

    let seen = descriptors.map { "\($0.fd):\($0.name)" }.joined(separator: ",")
    let portsMatch = ports.0 == first.port && ports.1 == second.port
    print("descriptors=\(seen); cleared=\(environmentCleared); cloexec=\(cloexec); ports=\(portsMatch ? "match" : "differ")")
    return 0
}

private func localPort(_ fd: Int32) -> UInt16? {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let rc = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return rc == 0 ? UInt16(bigEndian: address.sin_port) : nil
}
