import PlatformClients
import TrafficPoliceCore

/// Why a capacity could not be published, read or confirmed.
public enum CapacityPublishError: Error, Sendable, CustomStringConvertible {
    /// The platform has no credentials (the gateway gives no client).
    case notConfigured(Platform)
    /// The capacity is below what the platform has sold (Eventbrite `CAPACITY_TOTAL_TOO_SMALL` or
    /// `BAD_QUANTITIES`, a Meetup payload error about the limit, Luma's equivalent); `sold` when known.
    case tooSmall(sold: Int?, detail: String)
    /// Any other permanent refusal (not found, bad arguments, Meetup payload errors).
    case refused(detail: String)
    /// The call failed otherwise (rate limit, transport, credential, unreadable answer).
    case call(PlatformCallError)

    public var description: String {
        switch self {
        case .notConfigured(let platform): "\(platform.rawValue) is not configured"
        case .tooSmall(let sold, let detail): "capacity below sold\(sold.map { " (\($0) sold)" } ?? ""): \(detail)"
        case .refused(let detail): "refused: \(detail)"
        case .call(let error): "\(error)"
        }
    }

    /// A permanent answer about the capacity (`.tooSmall` or `.refused`): the platform will not take it
    /// as asked, and what it sold is worth reading before planning again.
    public var isRefusal: Bool {
        switch self {
        case .tooSmall, .refused: true
        case .notConfigured, .call: false
        }
    }

    /// What the platform said it sold, when its refusal told it.
    public var platformSold: Int? {
        guard case .tooSmall(let sold, _) = self else { return nil }
        return sold
    }

    /// `error` as the publisher reports it: a permanent answer about the capacity being too small is
    /// `.tooSmall`, any other permanent answer `.refused`, the rest `.call`.
    static func classify(_ error: PlatformCallError, platform: Platform) -> CapacityPublishError {
        guard case .permanent(_, let code, let message) = error else { return .call(error) }
        let detail = [code, message].compactMap { $0 }.joined(separator: ": ")
        return isTooSmall(code: code, message: message, platform: platform)
            ? .tooSmall(sold: nil, detail: detail) : .refused(detail: detail)
    }

    private static func isTooSmall(code: String?, message: String, platform: Platform) -> Bool {
        let text = message.lowercased()
        switch platform {
        case .eventbrite:
            return code == "CAPACITY_TOTAL_TOO_SMALL" || code == "BAD_QUANTITIES"
        case .meetup:
            return text.contains("rsvplimit") || text.contains("limit")
        case .luma:
            return text.contains("capacity") && (text.contains("below") || text.contains("less") || text.contains("small"))
        }
    }
}
