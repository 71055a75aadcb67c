/// Where the next batched read of one event's Eventbrite orders starts (platforms.md section 1.3).
///
/// `GET /events/{id}/orders/?changed_since=…&last_item_seen=…` returns the orders changed since
/// `changedSince` whose id is larger than `lastItemSeen`: with `changedSince` fixed at the first
/// read (less a look-back) and `lastItemSeen` following the largest id read, each read returns only
/// orders placed since the previous one, so a drop of N orders costs about N / page-size calls.
/// Changes to older orders (refunds, cancellations) are not in these reads: their webhooks are
/// resolved one by one.
public struct EventbriteOrderCursor: Sendable, Hashable, Codable {
    /// Milliseconds since the Unix epoch; sent as `changed_since`.
    public var changedSinceMilliseconds: Int64
    /// The largest order id read so far; sent as `last_item_seen`.
    public var lastItemSeen: String?

    public init(changedSinceMilliseconds: Int64, lastItemSeen: String? = nil) {
        self.changedSinceMilliseconds = changedSinceMilliseconds
        self.lastItemSeen = lastItemSeen
    }

    /// Moves past the largest of `orderIDs`.
    public mutating func advance(past orderIDs: some Sequence<String>) {
        for id in orderIDs where lastItemSeen.map({ Self.isLarger(id, than: $0) }) ?? true {
            lastItemSeen = id
        }
    }

    /// Eventbrite ids are decimal numbers as strings: compared as numbers (longer is larger),
    /// anything else as plain strings.
    public static func isLarger(_ id: String, than other: String) -> Bool {
        let numeric = { (text: String) in !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        if numeric(id) && numeric(other) {
            let a = id.drop { $0 == "0" }
            let b = other.drop { $0 == "0" }
            return a.count != b.count ? a.count > b.count : a > b
        }
        return id > other
    }
}
