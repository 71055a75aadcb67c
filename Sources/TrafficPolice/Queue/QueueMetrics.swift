import Metrics

/// The queue's metrics (swift-metrics; exported by whoever bootstrapped the metrics system).
/// Created with the queue, so a queue made after the bootstrap reports to it.
struct QueueMetrics: Sendable {
    let depth = Gauge(label: "traffic_police_queue_depth")
    let inFlight = Gauge(label: "traffic_police_queue_in_flight")
    let delayed = Gauge(label: "traffic_police_queue_delayed")
    let deadLetters = Gauge(label: "traffic_police_queue_dead_letters")
    let awaitingResolution = Gauge(label: "traffic_police_queue_awaiting_resolution")
    let retries = Counter(label: "traffic_police_queue_retries_total")
    let deadLettered = Counter(label: "traffic_police_queue_dead_lettered_total")
    let enqueued = Counter(label: "traffic_police_queue_enqueued_total")
    let duplicates = Counter(label: "traffic_police_queue_duplicates_total")
    let reclaimed = Counter(label: "traffic_police_queue_reclaimed_total")

    func record(_ stats: QueueStats) {
        depth.record(stats.depth)
        inFlight.record(stats.inFlight)
        delayed.record(stats.delayed)
        deadLetters.record(stats.deadLetters)
        awaitingResolution.record(stats.awaitingResolution)
    }

    /// Counts a job a worker finished, by outcome (`applied`, `ignored`, `parked`, `retried`, `dead_lettered`).
    static func processed(_ outcome: String) {
        Counter(label: "traffic_police_queue_jobs_processed_total", dimensions: [("outcome", outcome)]).increment()
    }
}
