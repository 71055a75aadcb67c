import ArgumentParser
import Foundation
import TrafficPolice
import TrafficPoliceCore

/// `traffic-police sell ID --qty N --approve --by NAME`: a box-office sale from the free stock.
struct SellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sell",
        abstract: "Sell tickets at the box office from the free stock (the safety stock on a new event).",
        discussion: """
            Sells only what no platform's allocation holds, only with --approve and the operator's
            name, and never in fail-safe (the event's, the operator's switch, or any daemon seen
            within the last 10 s). Refusals exit 1. Give --sale-id to make a retry safe:
            the same sale id is sold at most once.
            """)

    @Argument(help: "The event id.") var id: String
    @Option(help: "Number of tickets.") var qty: Int
    @Flag(help: "Confirm that an operator approved this sale.") var approve = false
    @Option(help: "The approving operator's name (recorded in the ledger).") var by: String
    @Option(name: .customLong("sale-id"), help: "Idempotency key for the sale (default: a new UUID).")
    var saleID: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        do {
            _ = try EventID(id)
        } catch {
            throw ValidationError("\(error)")
        }
        do throws(BoxOfficeSale.Invalid) {
            _ = try sale()
        } catch .approvedBy {
            throw ValidationError("--by must name the approving operator")
        } catch .saleID {
            throw ValidationError("--sale-id must be 1 to \(BoxOfficeSale.maximumSaleIDLength) characters")
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The sale as asked, checked by the rules the admin API's `POST /api/events/{id}/sales` shares.
    private func sale() throws(BoxOfficeSale.Invalid) -> BoxOfficeSale {
        try BoxOfficeSale(quantity: qty, approvedBy: by, saleID: saleID ?? BoxOfficeSale.newSaleID())
    }

    func run() async throws {
        let eventID = try EventID(id)
        guard approve else {
            throw CommandRuntime.fail(
                PolicyRefusal(message: "a box-office sale needs an operator's approval: add --approve --by NAME"))
        }
        let order = try sale()
        let sale = order.saleID
        try await CommandRuntime.run(connection) { runtime in
            // The CLI sells without a daemon: it must see the switch and every running daemon's fail-safe.
            let overview = try await runtime.ledger.failsafeOverview()
            if let reason = overview.reason {
                throw PolicyRefusal(message: "refused: \(reason); no box-office sale is allowed")
            }
            let result = try await runtime.desk.sell(
                eventID, quantity: order.quantity, approvedBy: order.approvedBy, saleID: sale)
            switch result {
            case .sold(let stock, let entered):
                if json {
                    try Output.json(SaleReport(saleID: sale, sold: qty, stock: stock, redAlert: entered))
                } else {
                    Output.line("sold \(qty) at the box office for \(eventID) (sale \(sale), approved by \(by)); stock now \(stock)")
                    if entered { Output.line("the event is now in red alert: every platform is closed") }
                }
            case .duplicate(let quantity):
                Output.line("sale \(sale) was already made (\(quantity) tickets); nothing changed")
            case .refused(let available):
                throw PolicyRefusal(
                    message: "refused: \(qty) tickets asked, \(available) free for the box office on \(eventID)")
            case .failsafe:
                throw PolicyRefusal(message: "refused: \(eventID) is in fail-safe; no box-office sale is allowed")
            }
        }
    }
}

/// `sell --json` output.
struct SaleReport: Encodable {
    var saleID: String
    var sold: Int
    var stock: Int
    var redAlert: Bool

    enum CodingKeys: String, CodingKey {
        case saleID = "sale_id"
        case sold, stock
        case redAlert = "red_alert"
    }
}
