import Foundation

/// The ISO 8601 timestamps the platforms use: Eventbrite `2018-05-12T02:00:00Z`, Luma and Meetup
/// `2021-12-12T18:37:51.644Z` (fractional seconds), Meetup also with an offset (`-04:00`).
public enum PlatformDate {
    /// Parses a timestamp with or without fractional seconds; nil when it is not ISO 8601.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }

    /// Formats `date` as Eventbrite expects in `changed_since`: UTC, whole seconds, `Z`.
    public static func eventbrite(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(secondsFromGMT: 0) ?? .gmt))
    }
}
