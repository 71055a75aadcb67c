import Logging
import TrafficPoliceCore

/// Which platforms the present credentials enable (DESIGN.md section 6). A disabled platform's
/// webhooks answer 503 and nothing is sent to it; that is a warning, not a configuration error.
///
/// - eventbrite needs `eventbrite-token` (its webhooks are hints re-read through the API);
/// - luma needs both `luma-webhook-secret` and `luma-api-key`: with only one, it is disabled (a
///   Luma that took webhooks but could not publish or close would break G2/G5 silently);
/// - meetup needs `meetup-token` (it is polled; it sends no webhooks).
public struct PlatformAvailability: Sendable, Hashable {
    /// The credentials that were present.
    public var present: Set<CredentialName>

    public init(present: Set<CredentialName>) { self.present = present }

    /// The credentials `platform` cannot be enabled without.
    public static func required(for platform: Platform) -> [CredentialName] {
        switch platform {
        case .eventbrite: [.eventbriteToken]
        case .luma: [.lumaWebhookSecret, .lumaAPIKey]
        case .meetup: [.meetupToken]
        }
    }

    /// Whether `platform` takes part at all (webhooks accepted or RSVPs polled, capacity published).
    public func isEnabled(_ platform: Platform) -> Bool {
        Self.required(for: platform).allSatisfy(present.contains)
    }

    /// Whether intake accepts `platform`'s webhooks (Meetup sends none).
    public func acceptsWebhooks(_ platform: Platform) -> Bool {
        platform != .meetup && isEnabled(platform)
    }

    /// Whether anything may call `platform`'s API (reads, capacity pushes, closes).
    public func callsAPI(_ platform: Platform) -> Bool { isEnabled(platform) }

    /// The enabled platforms, in order.
    public var enabled: [Platform] { Platform.allCases.filter(isEnabled) }

    /// One line per disabled platform, naming the missing credentials (and, when some of its
    /// credentials are present, that all are needed); empty when everything is enabled. Never
    /// contains a credential's value.
    public var warnings: [(platform: Platform, message: String)] {
        Platform.allCases.compactMap { platform in
            let required = Self.required(for: platform)
            let missing = required.filter { !present.contains($0) }
            guard !missing.isEmpty else { return nil }
            let names = missing.map(\.rawValue).joined(separator: ", ")
            let needsAll = missing.count < required.count
                ? "; it needs all of " + required.map(\.rawValue).joined(separator: " and ") : ""
            return (platform, "platform \(platform.rawValue) disabled: credential \(names) absent\(needsAll) "
                + "(its webhooks answer 503 and nothing is sent to it)")
        }
    }

    /// Logs `warnings` at warning level, one line each, with `platform` metadata.
    public func logWarnings(to logger: Logger) {
        for warning in warnings {
            logger.warning("\(warning.message)", metadata: ["platform": "\(warning.platform.rawValue)"])
        }
    }
}
