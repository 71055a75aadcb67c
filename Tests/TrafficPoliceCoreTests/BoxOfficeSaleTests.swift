import Testing
import TrafficPoliceCore

/// The rules a box-office sale is checked by, shared by `traffic-police sell` and the admin API.
@Suite struct BoxOfficeSaleTests {
    @Test func aValidSaleKeepsTheTrimmedOperatorName() throws {
        let sale = try BoxOfficeSale(quantity: 3, approvedBy: "  ana\n", saleID: "s-1")
        #expect(sale.quantity == 3)
        #expect(sale.approvedBy == "ana")
        #expect(sale.saleID == "s-1")
        let longest = String(repeating: "x", count: BoxOfficeSale.maximumSaleIDLength)
        #expect(try BoxOfficeSale(quantity: EventStock.maximumQuantity, approvedBy: "b", saleID: longest).saleID == longest)
    }

    @Test(arguments: [
        (0, "ana", "s", "quantity"), (-1, "ana", "s", "quantity"), (EventStock.maximumQuantity + 1, "ana", "s", "quantity"),
        (1, "", "s", "approvedBy"), (1, " \t\n", "s", "approvedBy"),
        (1, "ana", "", "saleID"), (1, "ana", String(repeating: "é", count: 65), "saleID"),
    ])
    func brokenRulesAreNamed(quantity: Int, approvedBy: String, saleID: String, rule: String) {
        do {
            _ = try BoxOfficeSale(quantity: quantity, approvedBy: approvedBy, saleID: saleID)
            Issue.record("accepted \(quantity) \(approvedBy) \(saleID)")
        } catch {
            switch error {
            case .quantity(let message): #expect(rule == "quantity" && message.contains("quantity"))
            case .approvedBy: #expect(rule == "approvedBy")
            case .saleID: #expect(rule == "saleID")
            }
        }
    }
}
