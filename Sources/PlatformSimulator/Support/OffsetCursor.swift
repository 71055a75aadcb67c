import Foundation

/// Opaque page cursors that carry an offset into a stable list, as each platform spells them.
public enum OffsetCursor {
    /// Meetup's Relay cursors: base64 of the decimal offset (`"MA=="` is 0).
    public static func meetup(_ offset: Int) -> String { Data(String(offset).utf8).base64EncodedString() }

    /// Offset of a Meetup cursor; nil when it is not one.
    public static func meetupOffset(_ cursor: String) -> Int? { decode(cursor, prefix: "") }

    /// Eventbrite continuation tokens and Luma cursors: base64 of `"<prefix><offset>"`.
    public static func encode(_ offset: Int, prefix: String) -> String {
        Data((prefix + String(offset)).utf8).base64EncodedString()
    }

    /// The offset in a token made by `encode(_:prefix:)`; nil when malformed.
    public static func decode(_ token: String, prefix: String) -> Int? {
        guard let data = Data(base64Encoded: token) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix(prefix), let offset = Int(text.dropFirst(prefix.count)), offset >= 0 else { return nil }
        return offset
    }
}

/// One page of a list.
public struct Page<Element> {
    public var items: [Element]
    /// Offset of the next page, nil on the last.
    public var nextOffset: Int?
    public var total: Int

    /// Cuts `all[offset..<offset+size]`.
    public init(_ all: [Element], offset: Int, size: Int) {
        let start = min(offset, all.count)
        let end = min(start + max(size, 1), all.count)
        items = Array(all[start..<end])
        nextOffset = end < all.count ? end : nil
        total = all.count
    }
}
