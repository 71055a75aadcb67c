import NIOConcurrencyHelpers
import NIOCore

/// Sends planned deliveries: each waits its delay, then one of `maxConcurrency` workers posts it
/// (each copy), retrying a failed or non-2xx attempt `retries` times with doubling backoff.
/// Runs on tasks and NIO, never on the API listener's event loop.
final class WebhookDispatcher: Sendable {
    private struct Job: Sendable {
        var delivery: WebhookDelivery
        var copy: Int
    }

    private let client: LoopbackHTTPClient
    private let record: @Sendable (_ id: String, _ copy: Int, _ attempt: Int, _ status: Int?, _ error: String?) -> Void
    private let settings: @Sendable () -> (retries: Int, backoffMs: Int, timeoutMs: Int)
    private let stream: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation
    private let workers: NIOLockedValueBox<[Task<Void, Never>]>

    init(
        client: LoopbackHTTPClient,
        settings: @escaping @Sendable () -> (retries: Int, backoffMs: Int, timeoutMs: Int),
        record: @escaping @Sendable (String, Int, Int, Int?, String?) -> Void
    ) {
        self.client = client
        self.settings = settings
        self.record = record
        (stream, continuation) = AsyncStream.makeStream(of: Job.self)
        workers = NIOLockedValueBox([])
    }

    /// Starts `count` workers.
    func start(workers count: Int) {
        let tasks = (0..<max(count, 1)).map { _ in
            Task { [stream, weak self] in
                for await job in stream {
                    guard let self else { return }
                    await self.send(job)
                }
            }
        }
        workers.withLockedValue { $0 = tasks }
    }

    func stop() {
        continuation.finish()
        for task in workers.withLockedValue({ $0 }) { task.cancel() }
    }

    /// Queues the copies of each delivery after its delay (the second copy 50 ms after the first).
    func submit(_ deliveries: [WebhookDelivery]) {
        for delivery in deliveries {
            for copy in 1...max(delivery.copies, 1) {
                let delay = delivery.delayMs + (copy - 1) * 50
                let continuation = self.continuation
                if delay == 0 {
                    continuation.yield(Job(delivery: delivery, copy: copy))
                } else {
                    Task {
                        try? await Task.sleep(for: .milliseconds(delay))
                        continuation.yield(Job(delivery: delivery, copy: copy))
                    }
                }
            }
        }
    }

    private func send(_ job: Job) async {
        let settings = self.settings()
        let target = job.delivery.target
        let endpoint: LoopbackHTTPClient.Endpoint =
            target.unixSocket.map { .unixSocket($0) } ?? .tcp(host: target.host, port: target.port)
        for attempt in 1...(settings.retries + 1) {
            if attempt > 1 {
                let backoff = settings.backoffMs * (1 << min(attempt - 2, 10))
                try? await Task.sleep(for: .milliseconds(backoff))
                if Task.isCancelled { return }
            }
            do {
                let response = try await client.send(
                    endpoint, method: "POST", path: target.path, headers: job.delivery.headers, body: job.delivery.body,
                    timeout: .milliseconds(Int64(settings.timeoutMs)))
                record(job.delivery.id, job.copy, attempt, response.status, nil)
                if response.status / 100 == 2 || response.status == 410 { return }
            } catch {
                record(job.delivery.id, job.copy, attempt, nil, "\(error)")
            }
        }
    }
}
