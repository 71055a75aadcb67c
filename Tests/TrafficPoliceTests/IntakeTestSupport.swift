import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
import TrafficPolice
import TrafficPoliceCore

/// Keeps deliveries in memory, with dedupe; `gate` (when set) holds every enqueue until opened.
final class MemorySink: DeliverySink {
    let deliveries = Locked<[WebhookDelivery]>([])
    let calls = Locked(0)
    let gate: Gate?

    init(gate: Gate? = nil) {
        self.gate = gate
    }

    func enqueue(_ delivery: WebhookDelivery) async throws -> EnqueueResult {
        calls.withLock { $0 += 1 }
        if let gate { await gate.wait() }
        return deliveries.withLock { list in
            if list.contains(where: { $0.dedupeKey == delivery.dedupeKey }) { return .duplicate }
            list.append(delivery)
            return .enqueued(jobID: "job-\(list.count)")
        }
    }
}

/// A sink whose store is down.
struct FailingSink: DeliverySink {
    struct Down: Error {}
    func enqueue(_ delivery: WebhookDelivery) async throws -> EnqueueResult { throw Down() }
}

/// A one-shot latch for holding a handler in flight.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    let entered = Locked(0)

    func wait() async {
        entered.withLock { $0 += 1 }
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A parsed HTTP response, read off the raw bytes.
struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    var errorCode: String? { json?["error"] as? String }
}

/// A client speaking raw bytes over a Unix socket, so tests can send anything (slowly, broken,
/// oversized) and read exactly what comes back.
final class RawClient: Sendable {
    private struct Received {
        var bytes: [UInt8] = []
        var closed = false
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let received: Locked<Received>
        init(_ received: Locked<Received>) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0.bytes += Array(buffer.readableBytesView) }
        }
        func channelInactive(context: ChannelHandlerContext) {
            received.withLock { $0.closed = true }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    private let channel: any Channel
    private let received: Locked<Received>

    private init(channel: any Channel, received: Locked<Received>) {
        self.channel = channel
        self.received = received
    }

    static func connect(_ path: String) async throws -> RawClient {
        let received = Locked(Received())
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received))
                }
            }
            .connect(unixDomainSocketPath: path).get()
        return RawClient(channel: channel, received: received)
    }

    /// Sends bytes; false when the server has already closed.
    @discardableResult
    func send(_ text: String) async -> Bool {
        await send(Array(text.utf8))
    }

    @discardableResult
    func send(_ bytes: [UInt8]) async -> Bool {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
            return true
        } catch {
            return false
        }
    }

    /// The next final response (1xx skipped), or nil when the connection closed (or the time ran
    /// out) first.
    func response(timeout: Duration = .seconds(5)) async throws -> RawResponse? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let parsed: (RawResponse?, Bool) = received.withLock { state in
                while let (response, used) = Self.parse(state.bytes) {
                    state.bytes.removeFirst(used)
                    if response.status >= 200 { return (response, false) }
                }
                return (nil, state.closed)
            }
            if let response = parsed.0 { return response }
            if parsed.1 { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// Whether the server closed the connection within `timeout`.
    func closed(within timeout: Duration = .seconds(5)) async throws -> Bool {
        try await eventually(timeout: timeout) { received.value.closed }
    }

    func close() async {
        try? await channel.close()
    }

    /// Everything received and not yet taken by ``response(timeout:)``, as text (a streamed body included).
    var receivedText: String { String(decoding: received.value.bytes, as: UTF8.self) }

    /// Waits until the text received so far satisfies `condition`; false when the time ran out first.
    func waitForText(timeout: Duration = .seconds(5), _ condition: (String) -> Bool) async throws -> Bool {
        try await eventually(timeout: timeout) { condition(receivedText) }
    }

    private static func parse(_ bytes: [UInt8]) -> (RawResponse, Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4,
            let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == separator })
        else { return nil }
        let text = String(decoding: bytes[0..<end], as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers: [(String, String)] = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        let bodyStart = end + 4
        guard bytes.count >= bodyStart + length else { return nil }
        return (RawResponse(status: status, headers: headers, body: Array(bytes[bodyStart..<bodyStart + length])), bodyStart + length)
    }
}

/// Request text for tests.
enum RawRequest {
    static func post(_ path: String, body: String, headers: [(String, String)] = [], contentType: String? = "application/json",
                     keepAlive: Bool = true) -> String {
        var text = "POST \(path) HTTP/1.1\r\nHost: localhost\r\n"
        if let contentType { text += "Content-Type: \(contentType)\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !keepAlive { text += "Connection: close\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        return text
    }

    static func get(_ path: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n"
    }
}

/// Luma signatures as the platform makes them.
enum LumaSigning {
    static let secret = "whsec_test-secret-for-intake"

    static func timestamped(_ body: String, secret: String = secret, at time: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(time).\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(time),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    static func standard(_ body: String, id: String, secretBytes: [UInt8], at time: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(id).\(time).\(body)".utf8), using: SymmetricKey(data: secretBytes))
        return "v1," + Data(mac).base64EncodedString()
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    static func guestRegistered(_ guest: String = "gst-\(UUID().uuidString.prefix(8))") -> String {
        #"{"type":"guest.registered","data":{"id":"\#(guest)","approval_status":"approved","event_tickets":[{"id":"t1"}]}}"#
    }
}

/// A unique, short socket path (Unix socket paths are limited to 107 bytes).
func testSocketPath(_ prefix: String) -> String {
    "/tmp/tp-\(prefix)-\(UUID().uuidString.prefix(8).lowercased()).sock"
}

/// Runs a service in a ServiceGroup, waits until it listens, runs `body`, then shuts it down gracefully.
func withRunningService<S: Service>(
    _ service: S, listening: ListeningSignal, _ body: () async throws -> Void
) async throws {
    let logger = Logger(label: "test")
    let group = ServiceGroup(
        configuration: .init(services: [service], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await listening.wait()
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// An intake on a fresh socket with Luma and Eventbrite enabled (unless `configure` says otherwise).
struct IntakeHarness {
    let path: String
    let intake: WebhookIntake
    let export: PrometheusExport

    static func run(
        sink: any DeliverySink,
        configure: (inout WebhookIntake.Configuration) throws -> Void = { _ in },
        logger: Logger = Logger(label: "traffic-police.intake"),
        _ body: (IntakeHarness) async throws -> Void
    ) async throws {
        let path = testSocketPath("in")
        var configuration = WebhookIntake.Configuration()
        configuration.socket = .path(path)
        configuration.luma = try .init(secret: LumaSigning.secret)
        configuration.eventbrite = try .init()
        try configure(&configuration)
        let export = PrometheusExport()
        let intake = WebhookIntake(configuration: configuration, sink: sink, metricsFactory: export.factory, logger: logger)
        let harness = IntakeHarness(path: path, intake: intake, export: export)
        try await withRunningService(intake, listening: intake.listening) { try await body(harness) }
    }

    func connect() async throws -> RawClient { try await RawClient.connect(path) }

    /// One request on a fresh connection.
    func exchange(_ request: String, timeout: Duration = .seconds(5)) async throws -> RawResponse? {
        let client = try await connect()
        await client.send(request)
        let response = try await client.response(timeout: timeout)
        await client.close()
        return response
    }
}
