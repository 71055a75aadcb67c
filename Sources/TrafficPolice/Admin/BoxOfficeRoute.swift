import Foundation
import Logging
import NIOHTTP1
import TrafficPoliceCore

/// `POST /api/events/{id}/sales`: a box-office sale on the admin socket (DESIGN.md section 3, the
/// same rules as `traffic-police sell ID --qty N --approve --by NAME`).
///
/// The body is `{"quantity": N, "approved_by": "NAME", "approve": true, "sale_id": "optional"}`
/// (no other key). Answers: 201 sold; 200 a repeat of a sale id already sold (nothing changed, the
/// first quantity); 400 `malformed_json`, `unknown_field`, `approval_required`, `bad_quantity`,
/// `approved_by_required`, `bad_sale_id` or `bad_event_id`; 404 `event_not_found`; 409 `refused`
/// with `available` (the free stock cannot cover it); 423 `failsafe` (the event is in fail-safe:
/// nothing is sold, the operator must recover it first, so no Retry-After); 503 when Redis or the
/// ledger cannot be reached. A sale answers with the event as `GET /api/events/{id}` shows it.
struct BoxOfficeRoute: Sendable {
    /// Makes the sale (`EventDesk.sell`); nil when this server cannot sell (503 `unavailable`).
    let sell: (@Sendable (EventID, BoxOfficeSale) async throws -> BoxOfficeResult)?
    let snapshot: @Sendable (EventID) async throws -> EventSnapshot
    let logger: Logger

    var route: Route {
        Route(.POST, "/api/events/{id}/sales", name: "sales", requiresJSONBody: true, handler: handle)
    }

    private func handle(_ request: ServerRequest) async -> ServerResponse {
        let id: EventID
        do {
            id = try EventID(request.parameter ?? "")
        } catch {
            return .error(.badRequest, "bad_event_id", "\(error)")
        }
        let sale: BoxOfficeSale
        switch SaleRequestBody.decode(request.bodyBytes) {
        case .refused(let refusal): return refusal
        case .body(let body):
            guard body.approve == true else {
                return .error(
                    .badRequest, "approval_required",
                    #"a box-office sale needs an operator's approval: send "approve": true and "approved_by""#)
            }
            do throws(BoxOfficeSale.Invalid) {
                sale = try BoxOfficeSale(
                    quantity: body.quantity ?? 0, approvedBy: body.approvedBy ?? "",
                    saleID: body.saleID ?? BoxOfficeSale.newSaleID())
            } catch {
                return Self.refusal(error)
            }
        }
        guard let sell else {
            return .unavailable("unavailable", "this server does not sell at the box office", retryAfterSeconds: 60)
        }
        let result: BoxOfficeResult
        do {
            result = try await sell(id, sale)
        } catch LedgerError.eventNotFound {
            return .error(.notFound, "event_not_found", "no event \(id.rawValue)")
        } catch let error as DomainError {
            return .error(.badRequest, "bad_request", error.message)
        } catch {
            logger.warning("box-office sale failed", metadata: metadata(id, sale).merging(["error": "\(error)"]) { $1 })
            return .unavailable("sale_failed", "the sale could not be made: \(error)", retryAfterSeconds: 1)
        }
        switch result {
        case .sold(let stockAfter, let entered):
            logger.notice("box-office sale", metadata: metadata(id, sale, quantity: sale.quantity))
            return .json(.created, await report(id, sale, quantity: sale.quantity, stockAfter: stockAfter, entered: entered))
        case .duplicate(let quantity):
            logger.info("box-office sale repeated", metadata: metadata(id, sale, quantity: quantity))
            let report = await report(id, sale, quantity: quantity, stockAfter: nil, entered: false)
            return .json(.ok, report)
        case .refused(let available):
            return .json(
                .conflict,
                Refusal(
                    error: "refused", available: available,
                    message: "\(sale.quantity) tickets asked, \(available) free for the box office on \(id.rawValue)"))
        case .failsafe:
            return .error(.locked, "failsafe", "\(id.rawValue) is in fail-safe; no box-office sale is allowed")
        }
    }

    /// The answer to a sale, with the event as it is now (left out, and logged, if it cannot be read).
    private func report(_ id: EventID, _ sale: BoxOfficeSale, quantity: Int, stockAfter: Int?, entered: Bool) async
        -> SaleReport
    {
        var event: EventSnapshot? = nil
        do {
            event = try await snapshot(id)
        } catch {
            logger.warning("event snapshot after a sale failed", metadata: ["EVENT_ID": "\(id.rawValue)", "error": "\(error)"])
        }
        return SaleReport(
            saleID: sale.saleID, quantity: quantity, stockAfter: stockAfter ?? event?.stock,
            enteredRedAlert: entered, duplicate: stockAfter == nil, event: event)
    }

    private func metadata(_ id: EventID, _ sale: BoxOfficeSale, quantity: Int? = nil) -> Logger.Metadata {
        [
            "EVENT_ID": "\(id.rawValue)", "OPERATOR": "\(sale.approvedBy)",
            "QUANTITY": "\(quantity ?? sale.quantity)", "SALE_ID": "\(sale.saleID)",
        ]
    }

    static func refusal(_ invalid: BoxOfficeSale.Invalid) -> ServerResponse {
        switch invalid {
        case .quantity: .error(.badRequest, "bad_quantity", invalid.description)
        case .approvedBy: .error(.badRequest, "approved_by_required", #""approved_by" must name the approving operator"#)
        case .saleID: .error(.badRequest, "bad_sale_id", invalid.description)
        }
    }
}

extension BoxOfficeSale {
    /// A new sale id (a lowercase UUID), for a sale asked without one.
    public static func newSaleID() -> String { UUID().uuidString.lowercased() }
}

/// The request body; every key optional here so that the rules answer with their own codes.
private struct SaleRequestBody: Decodable {
    var quantity: Int?
    var approvedBy: String?
    var approve: Bool?
    var saleID: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case quantity, approve
        case approvedBy = "approved_by"
        case saleID = "sale_id"
    }

    /// Any key, to find the ones this body does not know.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    struct UnknownKeys: Error {
        var keys: [String]
    }

    struct BadQuantity: Error {}

    init(from decoder: any Decoder) throws {
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).filter { !known.contains($0) }
        guard unknown.isEmpty else { throw UnknownKeys(keys: unknown.sorted()) }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            quantity = try container.decodeIfPresent(Int.self, forKey: .quantity)
        } catch {
            throw BadQuantity()  // a string, a fraction, a number too large for Int
        }
        approvedBy = try container.decodeIfPresent(String.self, forKey: .approvedBy)
        approve = try container.decodeIfPresent(Bool.self, forKey: .approve)
        saleID = try container.decodeIfPresent(String.self, forKey: .saleID)
    }

    /// The body, or the 400 that refuses it.
    enum Decoded {
        case body(SaleRequestBody)
        case refused(ServerResponse)
    }

    static func decode(_ bytes: [UInt8]) -> Decoded {
        do {
            return .body(try JSONDecoder().decode(SaleRequestBody.self, from: Data(bytes)))
        } catch let error as UnknownKeys {
            return .refused(
                .error(
                    .badRequest, "unknown_field",
                    "unknown key\(error.keys.count == 1 ? "" : "s") \(error.keys.map { "\"\(Router.printable($0))\"" }.joined(separator: ", ")); "
                        + "expected quantity, approved_by, approve and sale_id"))
        } catch is BadQuantity {
            return .refused(.error(.badRequest, "bad_quantity", "quantity must be a whole number of tickets"))
        } catch DecodingError.typeMismatch(_, let context) where !context.codingPath.isEmpty {
            let key = context.codingPath.first?.stringValue ?? ""
            return .refused(.error(.badRequest, "malformed_json", "\"\(Router.printable(key))\" has the wrong type"))
        } catch {
            return .refused(.error(.badRequest, "malformed_json", "the body is not one valid JSON object"))
        }
    }
}

/// The 201/200 answer to a sale.
private struct SaleReport: Encodable {
    var saleID: String
    var quantity: Int
    var stockAfter: Int?
    var enteredRedAlert: Bool
    /// True when the sale id had already been sold (200): nothing changed.
    var duplicate: Bool
    var event: EventSnapshot?

    enum CodingKeys: String, CodingKey {
        case quantity, duplicate, event
        case saleID = "sale_id"
        case stockAfter = "stock_after"
        case enteredRedAlert = "entered_red_alert"
    }
}

/// The 409 answer: the error body plus what the box office could sell.
private struct Refusal: Encodable {
    var error: String
    var available: Int
    var message: String
}
