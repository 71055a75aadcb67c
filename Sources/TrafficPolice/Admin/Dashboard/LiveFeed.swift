import Foundation
import NIOCore
import Synchronization

/// The event page's Server-Sent Events: reads the board about once a second, sends the rendered
/// live part as an `update` event only when it changed, and a comment as a heartbeat when nothing
/// was sent for a while (so proxies keep the connection open).
struct LiveFeed: Sendable {
    var board: @Sendable () async throws -> EventBoard
    var interval: Duration
    var heartbeat: Duration

    /// The byte stream of one client; it ends when the client goes away (the server cancels its
    /// iteration), and `onEnd` runs then.
    func stream(onEnd: @escaping @Sendable () -> Void) -> AsyncStream<ByteBuffer> {
        AsyncStream(bufferingPolicy: .bufferingNewest(8)) { continuation in
            let task = Task {
                continuation.yield(ByteBuffer(string: "retry: 3000\n\n"))
                var last: String? = nil
                var quiet = Duration.zero
                while !Task.isCancelled {
                    let fragment = await render()
                    if fragment != last {
                        continuation.yield(ByteBuffer(string: Self.event("update", data: fragment)))
                        last = fragment
                        quiet = .zero
                    } else if quiet >= heartbeat {
                        continuation.yield(ByteBuffer(string: ": heartbeat\n\n"))
                        quiet = .zero
                    }
                    do {
                        try await Task.sleep(for: interval)
                    } catch {
                        break
                    }
                    quiet += interval
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in
                task.cancel()
                onEnd()
            }
        }
    }

    private func render() async -> String {
        var html = HTML()
        do {
            DashboardPages.live(try await board(), into: &html)
        } catch {
            html.element("p", ["class": "warn"], text: "The event could not be read: \(error)")
        }
        return html.markup
    }

    /// One event in the `text/event-stream` format: every line of `data` on a `data:` line of its own.
    static func event(_ name: String, data: String) -> String {
        var text = "event: \(name)\n"
        let lines = data.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        for line in lines.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line)\n"
        }
        return text + "\n"
    }
}

/// Bounds the live clients served at once.
final class LiveClients: Sendable {
    private let count = Mutex(0)
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a client in; false when the limit is reached.
    func enter() -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() {
        count.withLock { $0 = max($0 - 1, 0) }
    }

    var current: Int { count.withLock { $0 } }
}
