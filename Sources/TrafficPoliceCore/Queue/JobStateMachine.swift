/// The life of one queued job as a value type: each event returns the action the queue must take,
/// and the state only moves along the transitions below (postgres-nio state-machine style).
///
///     queued ──claimed──▶ inFlight ──succeeded──▶ acked
///        ▲                 │  ▲  ├──failed──▶ retryScheduled ──retryDue──▶ queued
///        │                 │  │  ├──failed (last attempt) / rejected──▶ deadLettered ──resurrected──▶ queued
///        │                 │  └──reclaimed (worker died; visibility timeout passed)
///        │                 └──parked──▶ parked (kept aside, e.g. awaiting the order resolver)
///
/// An event that does not apply to the current state changes nothing and returns `.invalid`.
public struct JobStateMachine: Sendable, Hashable {
    /// Where the job is.
    public enum State: Sendable, Hashable {
        /// Waiting in the stream for attempt `attempt` (1-based).
        case queued(attempt: Int)
        /// Held by `consumer` for attempt `attempt`; `deliveries` counts how often the queue handed it out.
        case inFlight(attempt: Int, consumer: String, deliveries: Int)
        /// Failed; attempt `nextAttempt` is due after `delay`.
        case retryScheduled(nextAttempt: Int, delay: Duration)
        /// Done.
        case acked
        /// Given up after `attempts` attempts, with the last error.
        case deadLettered(attempts: Int, reason: String)
        /// Set aside without an attempt being spent (e.g. awaiting the Eventbrite order resolver).
        case parked(reason: String)
    }

    /// What the queue must do now.
    public enum Action: Sendable, Hashable {
        /// Give the job to a handler for this attempt.
        case handle(attempt: Int)
        /// Acknowledge and delete the job.
        case ack
        /// Remove it from the stream and put it back after `delay` as attempt `nextAttempt`.
        case scheduleRetry(nextAttempt: Int, delay: Duration)
        /// Move it to the dead letters with the reason.
        case deadLetter(attempts: Int, reason: String)
        /// Put it (back) into the stream as attempt `attempt`.
        case enqueue(attempt: Int)
        /// Move it aside with the reason.
        case park(reason: String)
        /// The event does not apply to the state; nothing changed.
        case invalid(String)
    }

    public private(set) var state: State
    /// The delay that preceded the current attempt (decorrelated jitter grows from it).
    public private(set) var previousDelay: Duration?

    /// A job waiting for attempt `attempt`.
    public init(queuedAttempt attempt: Int = 1, previousDelay: Duration? = nil) {
        self.state = .queued(attempt: max(1, attempt))
        self.previousDelay = previousDelay
    }

    /// A job already handed to `consumer` (how a worker rebuilds the machine from a claimed job).
    public init(inFlightAttempt attempt: Int, consumer: String, deliveries: Int = 1, previousDelay: Duration? = nil) {
        self.state = .inFlight(attempt: max(1, attempt), consumer: consumer, deliveries: max(1, deliveries))
        self.previousDelay = previousDelay
    }

    /// A consumer read the job from the stream.
    public mutating func claimed(by consumer: String) -> Action {
        guard case .queued(let attempt) = state else { return invalid("claimed") }
        state = .inFlight(attempt: attempt, consumer: consumer, deliveries: 1)
        return .handle(attempt: attempt)
    }

    /// Another consumer took over a job whose holder did not settle it within the visibility timeout
    /// (its worker died). The attempt is not spent; after `maxDeliveries` hand-outs it is dead-lettered
    /// so that a job that kills its worker every time cannot loop forever.
    public mutating func reclaimed(by consumer: String, deliveries: Int, maxDeliveries: Int) -> Action {
        guard case .inFlight(let attempt, _, _) = state else { return invalid("reclaimed") }
        if deliveries > maxDeliveries {
            let reason = "handed out \(deliveries) times without being settled: its worker died each time"
            state = .deadLettered(attempts: attempt, reason: reason)
            return .deadLetter(attempts: attempt, reason: reason)
        }
        state = .inFlight(attempt: attempt, consumer: consumer, deliveries: deliveries)
        return .handle(attempt: attempt)
    }

    /// The handler applied the job.
    public mutating func succeeded() -> Action {
        guard case .inFlight = state else { return invalid("succeeded") }
        state = .acked
        return .ack
    }

    /// The handler failed with a transient error: retry later per `schedule`, or dead-letter after the last attempt.
    public mutating func failed(
        _ error: String, schedule: RetrySchedule, using generator: inout some RandomNumberGenerator
    ) -> Action {
        guard case .inFlight(let attempt, _, _) = state else { return invalid("failed") }
        switch schedule.decision(afterAttempt: attempt, previousDelay: previousDelay, using: &generator) {
        case .retry(let delay):
            state = .retryScheduled(nextAttempt: attempt + 1, delay: delay)
            previousDelay = delay
            return .scheduleRetry(nextAttempt: attempt + 1, delay: delay)
        case .deadLetter:
            state = .deadLettered(attempts: attempt, reason: error)
            return .deadLetter(attempts: attempt, reason: error)
        }
    }

    /// The handler found the job can never succeed (malformed): dead-letter it now.
    public mutating func rejected(_ reason: String) -> Action {
        guard case .inFlight(let attempt, _, _) = state else { return invalid("rejected") }
        state = .deadLettered(attempts: attempt, reason: reason)
        return .deadLetter(attempts: attempt, reason: reason)
    }

    /// The handler cannot apply the job yet and it must not be lost or retried blindly: set it aside.
    public mutating func parked(_ reason: String) -> Action {
        guard case .inFlight = state else { return invalid("parked") }
        state = .parked(reason: reason)
        return .park(reason: reason)
    }

    /// A scheduled retry fell due.
    public mutating func retryDue() -> Action {
        guard case .retryScheduled(let next, _) = state else { return invalid("retryDue") }
        state = .queued(attempt: next)
        return .enqueue(attempt: next)
    }

    /// An operator retried a dead letter (or released a parked job): it starts again from attempt 1.
    public mutating func resurrected() -> Action {
        switch state {
        case .deadLettered, .parked:
            state = .queued(attempt: 1)
            previousDelay = nil
            return .enqueue(attempt: 1)
        default:
            return invalid("resurrected")
        }
    }

    /// Whether the job has left the queue's hands for good (until an operator acts).
    public var isSettled: Bool {
        switch state {
        case .acked, .deadLettered, .parked: true
        case .queued, .inFlight, .retryScheduled: false
        }
    }

    private func invalid(_ event: String) -> Action {
        .invalid("\(event) does not apply to a job in state \(state)")
    }
}
