/// A ticketing platform that sells the event on its own (DESIGN.md section 1).
public enum Platform: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case eventbrite
    case luma
    case meetup

    private var order: Int {
        switch self {
        case .eventbrite: 0
        case .luma: 1
        case .meetup: 2
        }
    }

    public static func < (lhs: Platform, rhs: Platform) -> Bool { lhs.order < rhs.order }
}

/// Where a ticket was sold: one of the platforms, or the operator's box office.
public enum SalesChannel: Sendable, Hashable, Codable, CustomStringConvertible {
    case platform(Platform)
    case boxOffice

    /// Every channel, platforms first, in the order `event show` lists them.
    public static let all: [SalesChannel] = Platform.allCases.map(SalesChannel.platform) + [.boxOffice]

    /// The name used in Redis fields, the ledger and JSON (`eventbrite`, …, `box_office`).
    public var name: String {
        switch self {
        case .platform(let platform): platform.rawValue
        case .boxOffice: "box_office"
        }
    }

    public init?(name: String) {
        if name == "box_office" {
            self = .boxOffice
        } else if let platform = Platform(rawValue: name) {
            self = .platform(platform)
        } else {
            return nil
        }
    }

    public var description: String { name }
}
