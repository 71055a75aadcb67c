import Foundation
import NIOCore

/// The figures of one run, printed for people and (with `--json`) as one JSON line for scripts.
struct IntakeReport: Encodable {
    var mode: String
    var connections: Int
    var depth: Int
    var targetRate: Double?
    var planned: Int
    var answered: Int
    var seconds: Double
    var rate: Double
    var p50Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var maxMs: Double
    var maxSendLagMs: Double
    var statuses: [String: Int]
    var unanswered: Int
    var errors: [String]

    init(mode: String, plan: IntakePlan, targetRate: Double?, tally: IntakeTally, t0: NIODeadline) {
        let sorted = tally.latencies.sorted()
        func ms(_ ns: Int64) -> Double { (Double(ns) / 1e4).rounded() / 100 }
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
            return ms(sorted[min(max(rank, 0), sorted.count - 1)])
        }
        self.mode = mode
        connections = plan.connections
        depth = plan.depth
        self.targetRate = targetRate
        planned = plan.requests.count
        answered = sorted.count
        let span = tally.lastAnswer.map { Double(($0 - t0).nanoseconds) / 1e9 } ?? 0
        seconds = (span * 1000).rounded() / 1000
        rate = span > 0 ? (Double(sorted.count) / span).rounded() : 0
        p50Ms = percentile(0.50)
        p99Ms = percentile(0.99)
        p999Ms = percentile(0.999)
        maxMs = sorted.last.map(ms) ?? 0
        maxSendLagMs = ms(tally.maxSendLag)
        statuses = Dictionary(uniqueKeysWithValues: tally.statuses.map { (String($0.key), $0.value) })
        unanswered = tally.unanswered
        errors = Array(tally.errors.prefix(5))
    }

    var text: String {
        let target = targetRate.map { " target \(Int($0))/s," } ?? ""
        return """
            intake \(mode) loop:\(target) \(connections) connections × \(depth) in flight
              answered \(answered)/\(planned) in \(seconds) s = \(Int(rate))/s; statuses \(statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")); unanswered \(unanswered)
              latency p50 \(p50Ms) ms, p99 \(p99Ms) ms, p99.9 \(p999Ms) ms, max \(maxMs) ms (max send lag \(maxSendLagMs) ms)
            """ + (errors.isEmpty ? "" : "\n  errors: " + errors.joined(separator: "; "))
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
