import Foundation
import TrafficPoliceCore

/// An `application/x-www-form-urlencoded` body, decoded (the first value of a repeated name wins).
public struct FormFields: Sendable, Hashable {
    public private(set) var values: [String: String] = [:]

    public init(_ values: [String: String]) {
        self.values = values
    }

    public init(urlEncoded bytes: [UInt8]) {
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), !name.isEmpty, values[name] == nil else { continue }
            values[name] = parts.count == 2 ? Self.decode(parts[1]) ?? "" : ""
        }
    }

    public subscript(_ name: String) -> String? { values[name] }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// A state-changing dashboard form, decoded and checked (no I/O): what to do, who asks, and
/// whether the operator already confirmed it on the confirmation page.
public struct DashboardAction: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A box-office sale from the free stock (the sale id is made once, on the confirmation page,
        /// so that confirming twice sells once).
        case sell(BoxOfficeSale)
        /// The operators' fail-safe switch, on or off, with the reason given.
        case failsafe(on: Bool, reason: String?)
        /// Reconcile the event with the platforms now.
        case reconcile
        /// Run a rebalancing pass of the event now.
        case rebalance
        /// End the event's sales on every platform (mode `closed`, `traffic-police event close`), with
        /// the reason given, if any.
        case close(reason: String?)
    }

    public var kind: Kind
    /// The operator's name, trimmed.
    public var operatorName: String
    /// The form came from the confirmation page (`confirm=yes`).
    public var confirmed: Bool

    /// The longest operator name or reason accepted, in characters.
    public static let maximumTextLength = 200

    /// A sale form: `operator`, `quantity`, `sale_id` (set by the confirmation page), `confirm`.
    public static func sale(_ form: FormFields, newSaleID: () -> String) -> Result<DashboardAction, DashboardFormError> {
        let operatorName: String
        switch named(form) {
        case .success(let name): operatorName = name
        case .failure(let error): return .failure(error)
        }
        guard let text = form["quantity"]?.trimmingCharacters(in: .whitespaces), let quantity = Int(text) else {
            return .failure(.invalid("the quantity must be a whole number of tickets"))
        }
        let confirmed = form["confirm"] == "yes"
        let saleID = form["sale_id"].flatMap { $0.isEmpty ? nil : $0 } ?? newSaleID()
        do throws(BoxOfficeSale.Invalid) {
            let sale = try BoxOfficeSale(quantity: quantity, approvedBy: operatorName, saleID: saleID)
            return .success(DashboardAction(kind: .sell(sale), operatorName: operatorName, confirmed: confirmed))
        } catch {
            return .failure(.invalid(error.description))
        }
    }

    /// A fail-safe switch form: `operator`, `state` (`on` or `off`), `reason`, `confirm`.
    public static func failsafe(_ form: FormFields) -> Result<DashboardAction, DashboardFormError> {
        let operatorName: String
        switch named(form) {
        case .success(let name): operatorName = name
        case .failure(let error): return .failure(error)
        }
        let on: Bool
        switch form["state"] {
        case "on": on = true
        case "off": on = false
        default: return .failure(.invalid("the switch must be turned on or off"))
        }
        return reason(form).map {
            DashboardAction(kind: .failsafe(on: on, reason: $0), operatorName: operatorName, confirmed: form["confirm"] == "yes")
        }
    }

    /// A reconciliation form: `operator`, `confirm`.
    public static func reconcile(_ form: FormFields) -> Result<DashboardAction, DashboardFormError> {
        named(.reconcile, form)
    }

    /// A rebalancing form: `operator`, `confirm`.
    public static func rebalance(_ form: FormFields) -> Result<DashboardAction, DashboardFormError> {
        named(.rebalance, form)
    }

    /// An end-of-sales form: `operator`, `reason` (optional), `confirm`.
    public static func close(_ form: FormFields) -> Result<DashboardAction, DashboardFormError> {
        named(form).flatMap { operatorName in
            reason(form).map {
                DashboardAction(kind: .close(reason: $0), operatorName: operatorName, confirmed: form["confirm"] == "yes")
            }
        }
    }

    /// An action that needs nothing but the operator's name.
    private static func named(_ kind: Kind, _ form: FormFields) -> Result<DashboardAction, DashboardFormError> {
        named(form).map { DashboardAction(kind: kind, operatorName: $0, confirmed: form["confirm"] == "yes") }
    }

    private static func named(_ form: FormFields) -> Result<String, DashboardFormError> {
        let name = form["operator"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !name.isEmpty else { return .failure(.invalid("name the operator who approves this")) }
        guard name.count <= maximumTextLength else {
            return .failure(.invalid("the operator's name is longer than \(maximumTextLength) characters"))
        }
        return .success(name)
    }

    /// The optional `reason`, trimmed (blank: nil), at most ``maximumTextLength`` characters.
    private static func reason(_ form: FormFields) -> Result<String?, DashboardFormError> {
        let reason = form["reason"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard reason.count <= maximumTextLength else {
            return .failure(.invalid("the reason is longer than \(maximumTextLength) characters"))
        }
        return .success(reason.isEmpty ? nil : reason)
    }
}

/// Why a dashboard form was refused before anything was done (400).
public enum DashboardFormError: Error, Sendable, Hashable {
    case invalid(String)

    public var message: String {
        switch self {
        case .invalid(let message): message
        }
    }
}
