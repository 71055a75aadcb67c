/// A fragment of HTML built in Swift: every piece of text and every attribute value goes through
/// ``escape(_:)``; only the builder's own tags are written unescaped. The dashboard builds all its
/// markup with it, so nothing that comes from data (event names, order ids, operator names, a
/// reconciliation's detail) can ever become markup.
public struct HTML: Sendable, Hashable, CustomStringConvertible {
    /// The markup so far.
    public private(set) var markup = ""

    public init() {}

    /// Appends text, escaped.
    public mutating func text(_ text: String) {
        markup += Self.escape(text)
    }

    /// Appends an element: `<tag a="v">…</tag>`, attributes escaped, attributes whose value is nil left out.
    public mutating func element(
        _ tag: String, _ attributes: KeyValuePairs<String, String?> = [:], _ content: (inout HTML) -> Void = { _ in }
    ) {
        open(tag, attributes)
        content(&self)
        markup += "</\(tag)>"
    }

    /// An element holding only escaped text.
    public mutating func element(_ tag: String, _ attributes: KeyValuePairs<String, String?> = [:], text: String) {
        element(tag, attributes) { $0.text(text) }
    }

    /// A void element (`<input>`, `<meta>`, `<link>`, `<br>`): no content, no end tag.
    public mutating func void(_ tag: String, _ attributes: KeyValuePairs<String, String?> = [:]) {
        open(tag, attributes)
    }

    /// Appends markup built by another builder (already escaped).
    public mutating func append(_ other: HTML) {
        markup += other.markup
    }

    /// The `<!doctype html>` line.
    public mutating func doctype() {
        markup += "<!doctype html>\n"
    }

    public var description: String { markup }

    private mutating func open(_ tag: String, _ attributes: KeyValuePairs<String, String?>) {
        markup += "<\(tag)"
        for (name, value) in attributes {
            guard let value else { continue }
            markup += " \(name)=\"\(Self.escape(value))\""
        }
        markup += ">"
    }

    /// `&`, `<`, `>`, `"` and `'` as character references, for text and attribute values alike.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
