import Foundation
import TrafficPoliceCore

/// A banner the operator cannot miss: red alert or fail-safe, with when it began and why.
public struct DashboardBanner: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case failsafe
        case redAlert = "red-alert"
    }

    public var kind: Kind
    public var title: String
    /// When it began (ISO 8601, UTC), when known.
    public var since: String?
    public var reason: String

    /// The banners for an event's board, fail-safe first: fail-safe when the event's mode says so,
    /// the operators' switch is on, any daemon reports it, or this daemon's watchdog is in it; red
    /// alert when the event is in red alert (since its `red_alert` capacity change).
    public static func banners(for board: EventBoard) -> [DashboardBanner] {
        var banners: [DashboardBanner] = []
        if let failsafe = failsafe(board.failsafe, eventMode: board.snapshot.mode) {
            banners.append(failsafe)
        }
        if board.snapshot.mode == .redAlert {
            let entered = board.capacityChanges.last { $0.kind == .redAlert }
            banners.append(
                DashboardBanner(
                    kind: .redAlert, title: "RED ALERT: platforms closed, the box office sells what is left",
                    since: entered.map { Self.iso($0.createdAt) },
                    reason: entered.map { $0.detail.isEmpty ? "sold reached the soft cap" : $0.detail }
                        ?? "sold reached the soft cap (\(board.snapshot.softCap) tickets)"))
        }
        return banners
    }

    /// The fail-safe banner, or nil when sales are not closed by fail-safe.
    public static func failsafe(_ state: FailsafeState, eventMode: EventMode? = nil) -> DashboardBanner? {
        let overview = state.overview
        guard overview?.failsafe == true || state.localStatus != nil || eventMode == .failsafe else { return nil }
        var since: String? = nil
        if let overview, overview.failsafeSwitch.on {
            since = overview.failsafeSwitch.changedAt
        } else if let instance = overview?.instances.first(where: \.failsafe) {
            since = instance.stateSince
        }
        let reason = overview?.reason ?? state.localStatus.map { "this daemon is in fail-safe: \($0)" }
            ?? "the event is in fail-safe"
        return DashboardBanner(
            kind: .failsafe, title: "FAIL-SAFE: every platform is stopped, no box-office sale", since: since,
            reason: reason)
    }

    static func iso(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}

/// The per-channel split of an event's capacity as a bar: one segment per channel, its width the
/// channel's allocation as a share of the capacity, filled to what it sold.
public struct SplitBar: Sendable, Hashable {
    public struct Segment: Sendable, Hashable {
        /// `eventbrite`, `luma`, `meetup`, `box_office`.
        public var channel: String
        public var label: String
        public var allocation: Int
        public var sold: Int
        /// Of the whole bar, 0–100.
        public var widthPercent: Double
        /// Of this segment, 0–100.
        public var filledPercent: Double
    }

    public var segments: [Segment]

    public init(_ snapshot: EventSnapshot) {
        let capacity = max(snapshot.capacity, 1)
        segments = SalesChannel.all.compactMap { channel in
            guard let state = snapshot.platforms[channel.name] else { return nil }
            return Segment(
                channel: channel.name, label: Self.label(channel), allocation: state.allocation, sold: state.sold,
                widthPercent: Self.percent(state.allocation, of: capacity),
                filledPercent: Self.percent(state.sold, of: max(state.allocation, 1)))
        }
    }

    /// A share as a percentage, clamped to 0–100, to one decimal.
    static func percent(_ part: Int, of whole: Int) -> Double {
        guard whole > 0 else { return 0 }
        return (min(max(Double(part) / Double(whole), 0), 1) * 1000).rounded() / 10
    }

    static func label(_ channel: SalesChannel) -> String {
        switch channel {
        case .platform(.eventbrite): "Eventbrite"
        case .platform(.luma): "Luma"
        case .platform(.meetup): "Meetup"
        case .boxOffice: "Box office"
        }
    }
}

extension EventMode {
    /// How the dashboard names a mode.
    public var dashboardLabel: String {
        switch self {
        case .open: "open"
        case .redAlert: "red alert"
        case .closed: "closed"
        case .failsafe: "fail-safe"
        }
    }
}
