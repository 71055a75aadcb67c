import Foundation
import TrafficPoliceCore

/// Tickets one channel sold in one second (and still holds), as `Ledger.salesTimeline` reads them.
public struct SalesPoint: Sendable, Hashable {
    /// `eventbrite`, `luma`, `meetup` or `box_office`.
    public var channel: String
    /// Seconds since 1970.
    public var at: Double
    public var tickets: Int

    public init(channel: String, at: Double, tickets: Int) {
        self.channel = channel
        self.at = at
        self.tickets = tickets
    }
}

/// The event page's chart, as geometry for an inline SVG: each channel's cumulative sales over
/// time, the soft cap, and a marker per capacity change with its fencing token.
public struct SalesChart: Sendable, Hashable {
    public struct Series: Sendable, Hashable {
        public var channel: String
        public var label: String
        /// SVG `points`: `x,y x,y …`.
        public var points: String
        public var total: Int
    }

    public struct Marker: Sendable, Hashable {
        public var x: Double
        public var kind: String
        /// For the tooltip: when, what, the fence.
        public var label: String
    }

    public static let width = 600.0
    public static let height = 200.0

    public var series: [Series]
    public var markers: [Marker]
    /// The soft cap's height in the chart.
    public var softCapY: Double
    /// The time span shown (UTC).
    public var from: String
    public var to: String

    /// Nil when there is nothing to draw yet (no sale, no capacity change).
    public init?(sales: [SalesPoint], changes: [CapacityChangeRecord], capacity: Int, softCap: Int) {
        let times = sales.map(\.at) + changes.map { $0.createdAt.timeIntervalSince1970 }
        guard let start = times.min(), let last = times.max() else { return nil }
        let end = max(last, start + 1)
        let top = Double(max(capacity, 1))
        func x(_ at: Double) -> Double { Self.rounded((at - start) / (end - start) * Self.width) }
        func y(_ tickets: Int) -> Double { Self.rounded(Self.height - min(Double(tickets) / top, 1) * Self.height) }
        series = SalesChannel.all.compactMap { channel in
            let own = sales.filter { $0.channel == channel.name }
            guard !own.isEmpty else { return nil }
            var total = 0
            var points = ["\(x(start)),\(y(0))"]
            for point in own {
                points.append("\(x(point.at)),\(y(total))")
                total += point.tickets
                points.append("\(x(point.at)),\(y(total))")
            }
            points.append("\(x(end)),\(y(total))")
            return Series(
                channel: channel.name, label: SplitBar.label(channel), points: points.joined(separator: " "), total: total)
        }
        markers = changes.map { change in
            let platform = change.platform.map { " \($0.rawValue)" } ?? ""
            let capacity = change.capacity.map { " capacity \($0)" } ?? ""
            let moved = change.tickets.map { " moved \($0)" } ?? ""
            return Marker(
                x: x(change.createdAt.timeIntervalSince1970), kind: change.kind.rawValue,
                label: "\(DashboardBanner.iso(change.createdAt)) fence \(change.fence): \(change.kind.rawValue)"
                    + platform + capacity + moved)
        }
        softCapY = y(softCap)
        from = DashboardBanner.iso(Date(timeIntervalSince1970: start))
        to = DashboardBanner.iso(Date(timeIntervalSince1970: end))
    }

    static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
