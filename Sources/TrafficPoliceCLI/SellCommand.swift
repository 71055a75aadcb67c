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

            With --json every outcome is one JSON object on stdout: {"sale_id", "sold", "stock",
            "red_alert", "duplicate"} (duplicate true: the sale id was already sold, nothing changed,
            "sold" is what that sale sold), or for a refusal (exit 1) {"sale_id", "refused": true,
            "reason", "available"}.
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
        let order = try sale()
        guard approve else {
            let refusal = PolicyRefusal(message: "a box-office sale needs an operator's approval: add --approve --by NAME")
            try reportRefusal(refusal, saleID: order.saleID)
            throw CommandRuntime.fail(refusal)
        }
        try await CommandRuntime.run(connection) { runtime in
            do {
                try await sell(order, of: eventID, runtime: runtime)
            } catch {
                try reportRefusal(error, saleID: order.saleID)
                throw error
            }
        }
    }

    private func sell(_ order: BoxOfficeSale, of eventID: EventID, runtime: CommandRuntime) async throws {
        let sale = order.saleID
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
                try Output.json(SaleReport(saleID: sale, sold: qty, stock: stock, redAlert: entered, duplicate: false))
            } else {
                Output.line("sold \(qty) at the box office for \(eventID) (sale \(sale), approved by \(by)); stock now \(stock)")
                if entered { Output.line("the event is now in red alert: every platform is closed") }
            }
        case .duplicate(let quantity):
            if json {
                // Nothing was sold now: `sold` is what the earlier sale of this id sold, `stock` the stock now.
                let stock = try? await runtime.desk.snapshot(eventID, allowLedgerFallback: true).stock
                try Output.json(SaleReport(saleID: sale, sold: quantity, stock: stock, redAlert: false, duplicate: true))
            } else {
                Output.line("sale \(sale) was already made (\(quantity) tickets); nothing changed")
            }
        case .refused(let available):
            throw PolicyRefusal(
                message: "refused: \(qty) tickets asked, \(available) free for the box office on \(eventID)",
                available: available)
        case .failsafe:
            throw PolicyRefusal(message: "refused: \(eventID) is in fail-safe; no box-office sale is allowed")
        }
    }

    /// Under `--json`, a refusal (exit 1) is one JSON object on stdout too; the line on stderr stays.
    private func reportRefusal(_ error: any Error, saleID: String) throws {
        let (code, message) = CommandRuntime.classify(error)
        guard json, code == ExitStatus.refused else { return }
        try Output.json(
            SaleRefusalReport(saleID: saleID, reason: message, available: (error as? PolicyRefusal)?.available))
    }
}

/// `sell --json` output for a sale made now, or one already made under the same `--sale-id`
/// (`duplicate`: nothing changed; `sold` is what that sale sold).
struct SaleReport: Encodable {
    var saleID: String
    var sold: Int
    /// The stock after the sale; for a duplicate, the stock now (absent when it cannot be read).
    var stock: Int?
    var redAlert: Bool
    var duplicate: Bool

    enum CodingKeys: String, CodingKey {
        case saleID = "sale_id"
        case sold, stock, duplicate
        case redAlert = "red_alert"
    }
}

/// `sell --json` output for a refused sale (exit 1): `refused` is always true.
struct SaleRefusalReport: Encodable {
    var saleID: String
    var refused = true
    var reason: String
    /// What the box office could sell, when the stock was the reason.
    var available: Int?

    init(saleID: String, reason: String, available: Int?) {
        self.saleID = saleID
        self.reason = reason
        self.available = available
    }

    enum CodingKeys: String, CodingKey {
        case saleID = "sale_id"
        case refused, reason, available
    }
}
