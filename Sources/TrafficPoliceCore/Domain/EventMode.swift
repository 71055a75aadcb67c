/// The sales mode of an event, as `event show` reports it (DESIGN.md section 6).
public enum EventMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Platforms sell within their allocations.
    case open
    /// Sold reached the soft cap: every platform is closed, only the box office sells what is left.
    case redAlert = "red_alert"
    /// An operator ended sales.
    case closed
    /// Redis stopped answering (or an operator tripped it): platforms on waitlist only, no box office.
    case failsafe
}
