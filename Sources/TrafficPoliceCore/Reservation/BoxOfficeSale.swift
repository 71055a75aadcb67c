/// A box-office sale as an operator asks for it (`traffic-police sell` or `POST /api/events/{id}/sales`),
/// checked once for both: a quantity `EventStock` accepts, the approving operator's name, a usable sale id.
public struct BoxOfficeSale: Sendable, Hashable {
    /// Which rule a request broke, with a message for a person.
    public enum Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        /// Not a whole number of tickets from 1 to `EventStock.maximumQuantity`.
        case quantity(String)
        /// No operator named (empty or blank).
        case approvedBy
        /// A sale id that is empty or longer than ``BoxOfficeSale/maximumSaleIDLength`` bytes.
        case saleID

        public var description: String {
            switch self {
            case .quantity(let message): message
            case .approvedBy: "the approving operator must be named"
            case .saleID: "a sale id must be 1 to \(BoxOfficeSale.maximumSaleIDLength) characters"
            }
        }
    }

    /// The longest sale id, in UTF-8 bytes.
    public static let maximumSaleIDLength = 128

    public let quantity: Int
    /// The operator's name, trimmed of surrounding whitespace (what the ledger records).
    public let approvedBy: String
    /// The idempotency key: the same sale id is sold at most once.
    public let saleID: String

    /// Throws ``Invalid`` for the first rule the request breaks (quantity, then operator, then sale id).
    public init(quantity: Int, approvedBy: String, saleID: String) throws(Invalid) {
        do {
            try EventStock.validate(quantity: quantity)
        } catch {
            throw .quantity("\(error)")
        }
        let name = Self.trimmed(approvedBy)
        guard !name.isEmpty else { throw .approvedBy }
        guard !saleID.isEmpty, saleID.utf8.count <= Self.maximumSaleIDLength else { throw .saleID }
        self.quantity = quantity
        self.approvedBy = name
        self.saleID = saleID
    }

    private static func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace || $0.isNewline }
        return String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
