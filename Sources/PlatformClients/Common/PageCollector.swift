/// Follows a cursor through every page of a list, bounded: the I/O loop behind the clients'
/// `all…` conveniences.
enum PageCollector {
    /// The code of the `.permanent` error thrown when a list has more than `maxPages` pages.
    static let pageLimitCode = "PAGE_LIMIT"

    /// Calls `fetch(nil)`, then `fetch(next)` while a page names a next cursor. Throws
    /// `.permanent(PAGE_LIMIT)` past `maxPages` pages and `.malformedResponse` when a cursor repeats.
    static func collect<Item>(
        maxPages: Int, cursorField: String, fetch: (String?) async throws -> (items: [Item], next: String?)
    ) async throws -> [Item] {
        var items: [Item] = []
        var cursor: String?
        var seen: Set<String> = []
        for _ in 0..<max(1, maxPages) {
            let page = try await fetch(cursor)
            items += page.items
            guard let next = page.next else { return items }
            guard seen.insert(next).inserted else {
                throw PlatformCallError.malformedResponse(field: cursorField, why: "cursor '\(next)' repeated")
            }
            cursor = next
        }
        throw PlatformCallError.permanent(
            status: 0, code: pageLimitCode, message: "more than \(max(1, maxPages)) pages; stopped")
    }
}
