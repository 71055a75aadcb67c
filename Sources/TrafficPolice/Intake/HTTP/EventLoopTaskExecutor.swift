import NIOCore

/// A `TaskExecutor` that runs jobs on one NIO event loop.
///
/// A request handler started with this executor as its preference runs on the thread of the
/// connection's event loop, and so does its continuation after each `await` (a Redis reply, say):
/// the request never hops through Swift's cooperative pool, which on a small machine costs two
/// thread wake-ups per request. Handlers must not block (they don't: blocking C calls run on their
/// bridges' own threads).
final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop jobs run on.
    let eventLoop: any EventLoop

    /// Creates an executor for `eventLoop`.
    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
