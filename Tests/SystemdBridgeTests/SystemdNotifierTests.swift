import SystemdBridge
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension SystemdEnvironmentTests {
    @Suite("SystemdNotifier")
    struct NotifierTests {
        @Test func notifyWithoutSocketReturnsFalse() throws {
            try withEnvironment(["NOTIFY_SOCKET": nil]) {
                let sent = try SystemdNotifier.notify("READY=1")
                #expect(sent == false)
            }
        }

        @Test func notifySendsExactlyOneDatagramPerCall() throws {
            let socket = try UnixDatagramSocket(path: temporarySocketPath("notify"))
            defer { socket.close() }
            try withEnvironment(["NOTIFY_SOCKET": socket.path]) {
                #expect(try SystemdNotifier.notify("READY=1") == true)
                let ready = try #require(try socket.receive())
                #expect(String(decoding: ready, as: UTF8.self) == "READY=1")

                let status = "STATUS=draining queue\nsecond line: 3 left"
                #expect(try SystemdNotifier.notify(status) == true)
                let received = try #require(try socket.receive())
                #expect(String(decoding: received, as: UTF8.self) == status)

                #expect(try socket.receive(timeout: .milliseconds(100)) == nil)
            }
        }

        @Test func notifyToMissingSocketThrows() {
            withEnvironment(["NOTIFY_SOCKET": temporarySocketPath("absent")]) {
                #expect(throws: SystemdError.self) { try SystemdNotifier.notify("READY=1") }
            }
        }

        @Test func watchdogIntervalForThisProcess() {
            withEnvironment(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": String(getpid())]) {
                #expect(SystemdNotifier.watchdogInterval() == .seconds(2))
            }
        }

        @Test func watchdogIntervalWithoutPidApplies() {
            withEnvironment(["WATCHDOG_USEC": "1500000", "WATCHDOG_PID": nil]) {
                #expect(SystemdNotifier.watchdogInterval() == .milliseconds(1500))
            }
        }

        @Test func watchdogIntervalForAnotherProcessIsNil() {
            let other = getpid() == 1 ? 2 : 1
            withEnvironment(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": String(other)]) {
                #expect(SystemdNotifier.watchdogInterval() == nil)
            }
        }

        @Test func watchdogIntervalUnsetIsNil() {
            withEnvironment(["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
                #expect(SystemdNotifier.watchdogInterval() == nil)
            }
        }
    }
}
