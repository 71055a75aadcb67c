import TrafficPoliceCore

/// Every page and fragment of the operator dashboard, built with ``HTML`` (the one place the
/// dashboard makes markup; everything from data is escaped by the builder).
enum DashboardPages {
    static let root = "/dashboard"

    static func eventPath(_ id: String) -> String { "\(root)/events/\(id)" }

    // MARK: - Pages

    /// The events list: capacity, sold, stock, mode and the split bar per event.
    static func eventsList(_ events: [EventSnapshot], failsafe: FailsafeState, form: FormContext) -> HTML {
        page(title: "Events") { html in
            if let banner = DashboardBanner.failsafe(failsafe) { self.banner(banner, into: &html) }
            html.element("h1", text: "Events")
            if events.isEmpty {
                html.element("p", text: "No event yet: create one with traffic-police event create.")
            }
            html.element("table", ["class": "events"]) { html in
                html.element("thead") { html in
                    row(["Event", "Mode", "Capacity", "Sold", "Stock", "Split"], header: true, into: &html)
                }
                html.element("tbody") { html in
                    for event in events {
                        html.element("tr", ["class": "mode-\(event.mode.rawValue)"]) { html in
                            html.element("td") { html in
                                html.element("a", ["href": eventPath(event.id)], text: event.name)
                                html.element("div", ["class": "muted"], text: event.id)
                            }
                            html.element("td") { modeBadge(event.mode, into: &$0) }
                            html.element("td", ["class": "num"], text: "\(event.capacity)")
                            html.element("td", ["class": "num"], text: "\(event.sold)")
                            html.element("td", ["class": "num"], text: "\(event.stock)")
                            html.element("td", ["class": "bar-cell"]) { splitBar(SplitBar(event), into: &$0) }
                        }
                    }
                }
            }
            failsafeSwitchForm(failsafe, form: form, into: &html)
        }
    }

    /// An event's page: the live part (replaced by Server-Sent Events) and the actions
    /// ("Rebalance now" only when `rebalance`: this daemon runs a rebalancer; "End sales" only when
    /// `close` and the event is not closed yet).
    static func eventPage(_ board: EventBoard, form: FormContext, rebalance: Bool = false, close: Bool = false) -> HTML {
        let id = board.snapshot.id
        return page(title: board.snapshot.name, script: true) { html in
            html.element("p", ["class": "crumbs"]) { html in
                html.element("a", ["href": root], text: "All events")
                html.text(" / \(id)")
            }
            html.element("h1", text: board.snapshot.name)
            html.element("p", ["class": "muted", "id": "live-status"], text: "Reload the page to refresh.")
            html.element("div", ["id": "live", "data-src": "\(eventPath(id))/live"]) { live(board, into: &$0) }
            html.element("section", ["class": "actions"]) { html in
                html.element("h2", text: "Box office")
                html.element(
                    "p",
                    text: "Sells from the free stock only (\(board.snapshot.freeStock) now), never in fail-safe; "
                        + "you confirm on the next page.")
                html.element("form", ["method": "post", "action": "\(eventPath(id))/sales"]) { html in
                    form.hidden(into: &html)
                    labelled("Tickets", into: &html) {
                        $0.void("input", ["type": "number", "name": "quantity", "min": "1", "required": "", "value": "1"])
                    }
                    operatorField(form, into: &html)
                    html.element("button", ["type": "submit"], text: "Sell…")
                }
                actionForm(
                    "Reconciliation",
                    "Reads every order of each linked platform (throttled, after everything else) and fixes "
                        + "what the ledger missed; the report appears under Last reconciliation.",
                    action: "\(eventPath(id))/reconcile", button: "Reconcile now…", form: form, into: &html)
                if rebalance {
                    actionForm(
                        "Rebalancing",
                        "Runs a rebalancing pass now instead of at the next interval: unsold allocation moves from "
                            + "slow platforms to fast ones; the changes appear under the capacity changes.",
                        action: "\(eventPath(id))/rebalance", button: "Rebalance now…", form: form, into: &html)
                }
                if close, board.snapshot.mode != .closed {
                    actionForm(
                        "End sales",
                        "Ends the sales for good: every platform closes at what it has sold; the box office can "
                            + "still sell what is left, with approval. You confirm on the next page.",
                        action: "\(eventPath(id))/close", button: "End sales…", reason: true, danger: true, form: form,
                        into: &html)
                }
                failsafeSwitchForm(board.failsafe, form: form, into: &html)
            }
        }
    }

    /// What the live stream sends: banners, figures, platforms, orders, queue, reconciliation, capacity history.
    static func live(_ board: EventBoard, into html: inout HTML) {
        let event = board.snapshot
        for banner in DashboardBanner.banners(for: board) { self.banner(banner, into: &html) }
        html.element("dl", ["class": "figures"]) { html in
            figure("Mode", into: &html) { modeBadge(event.mode, into: &$0) }
            for (label, value) in [
                ("Capacity", event.capacity), ("Sold", event.sold), ("Stock", event.stock),
                ("Safety stock", event.safetyStock), ("Free for the box office", event.freeStock),
                ("Soft cap", event.softCap),
            ] {
                figure(label, into: &html) { $0.text("\(value)") }
            }
        }
        if event.source != "redis" {
            html.element("p", ["class": "warn"], text: "Redis could not be read: these are the ledger's figures.")
        }
        splitBar(SplitBar(event), into: &html)
        html.element("h2", text: "Platforms")
        html.element("table") { html in
            row(["Channel", "Listing", "Allocation", "Published", "Sold"], header: true, into: &html)
            for channel in SalesChannel.all {
                guard let state = event.platforms[channel.name] else { continue }
                let listing = channel == .boxOffice ? "" : state.platformEventID ?? "not linked"
                row(
                    [SplitBar.label(channel), listing, "\(state.allocation)", channel == .boxOffice ? "" : "\(state.published)",
                     "\(state.sold)"], numeric: [2, 3, 4], into: &html)
            }
        }
        let chart = SalesChart(
            sales: board.sales, changes: board.capacityChanges, capacity: event.capacity, softCap: event.softCap)
        section("Sales over time", chart, missing: "No sale yet.", into: &html) { chart, html in
            salesChart(chart, into: &html)
        }
        let flagged = board.flaggedOrders.isEmpty ? nil : board.flaggedOrders
        section("Absorbed and overbooked orders", flagged, missing: "None.", into: &html) { orders, html in
            html.element("table") { html in
                row(["Platform", "Order", "Tickets", "Outcome", "Excess", "Released"], header: true, into: &html)
                for order in orders {
                    row(
                        [order.channel.name, order.orderID, "\(order.quantity)", order.outcome.rawValue, "\(order.excess)",
                         order.released ? "yes" : "no"], numeric: [2, 4], rowClass: "outcome-\(order.outcome.rawValue)",
                        into: &html)
                }
            }
        }
        section("Queue (all events)", board.queue, missing: "The queue could not be read.", warn: true, into: &html) {
            queue, html in
            html.element("dl", ["class": "figures"]) { html in
                for (label, value) in [
                    ("Waiting", queue.depth), ("In flight", queue.inFlight), ("Retrying", queue.delayed),
                    ("Dead letters", queue.deadLetters), ("Awaiting resolution", queue.awaitingResolution),
                ] {
                    figure(label, into: &html) { $0.text("\(value)") }
                }
            }
        }
        section("Last reconciliation", board.lastReconciliation, missing: "None recorded yet.", into: &html) { run, html in
            html.element("dl", ["class": "figures"]) { html in
                figure("Outcome", into: &html) { $0.text(run.outcome + (run.dryRun ? " (dry run)" : "")) }
                figure("Finished", into: &html) { $0.text(run.finishedAt ?? "?") }
                figure("Drift", into: &html) { $0.text("\(run.driftCount)") }
                figure("Fixed", into: &html) { $0.text("\(run.fixed)") }
                figure("Remaining", into: &html) { $0.text("\(run.remaining)") }
            }
            for (platform, error) in run.unreadable.sorted(by: { $0.key < $1.key }) {
                html.element("p", ["class": "warn"], text: "\(platform) unreadable: \(error)")
            }
            if !run.detail.isEmpty { html.element("p", text: run.detail) }
        }
        let changes = board.capacityChanges.isEmpty ? nil : board.capacityChanges.suffix(15).reversed()
        section("Capacity changes", changes, missing: "None yet.", into: &html) { changes, html in
            html.element("table") { html in
                row(["When (UTC)", "Kind", "Platform", "Capacity", "Sold", "Moved", "Fence", "Confirmed", "Detail"],
                    header: true, into: &html)
                for change in changes {
                    let platform = change.fromPlatform.map { "\($0.rawValue) → " } ?? ""
                    row(
                        [DashboardBanner.iso(change.createdAt), change.kind.rawValue,
                         platform + (change.platform?.rawValue ?? "all"), change.capacity.map(String.init) ?? "",
                         change.sold.map(String.init) ?? "", change.tickets.map(String.init) ?? "", "\(change.fence)",
                         change.confirmed ? "yes" : "no", change.detail], numeric: [3, 4, 5, 6], into: &html)
                }
            }
        }
    }

    /// A titled part of the live view: `content` with the value, or the `missing` note without one.
    private static func section<Value>(
        _ title: String, _ value: Value?, missing: String, warn: Bool = false, into html: inout HTML,
        _ content: (Value, inout HTML) -> Void
    ) {
        html.element("h2", text: title)
        if let value {
            content(value, &html)
        } else {
            html.element("p", ["class": warn ? "warn" : "muted"], text: missing)
        }
    }

    /// The confirmation step of a state-changing form: the same fields again, plus `confirm=yes`.
    static func confirmation(_ action: DashboardAction, event: EventSnapshot?, form: FormContext) -> HTML {
        page(title: "Confirm") { html in
            html.element("h1", text: "Confirm")
            let target: String
            switch action.kind {
            case .sell(let sale):
                let id = event?.id ?? ""
                html.element(
                    "p", ["class": "confirm"],
                    text: "Sell \(sale.quantity) ticket\(sale.quantity == 1 ? "" : "s") of \(event?.name ?? id) "
                        + "at the box office, approved by \(action.operatorName)?")
                if let event {
                    html.element(
                        "p", text: "Free for the box office now: \(event.freeStock) (mode \(event.mode.dashboardLabel)).")
                }
                target = "\(eventPath(id))/sales"
                html.element("form", ["method": "post", "action": target]) { html in
                    form.hidden(into: &html)
                    hidden("operator", action.operatorName, into: &html)
                    hidden("quantity", "\(sale.quantity)", into: &html)
                    hidden("sale_id", sale.saleID, into: &html)
                    hidden("confirm", "yes", into: &html)
                    html.element("button", ["type": "submit", "class": "danger"], text: "Confirm the sale")
                    html.text(" ")
                    html.element("a", ["href": eventPath(id)], text: "Cancel")
                }
            case .reconcile:
                let id = event?.id ?? ""
                confirmForm(
                    "Reconcile \(event?.name ?? id) with the platforms now, asked by \(action.operatorName)?",
                    action: "\(eventPath(id))/reconcile", button: "Reconcile now", operatorName: action.operatorName,
                    cancel: eventPath(id), form: form, into: &html)
            case .rebalance:
                let id = event?.id ?? ""
                confirmForm(
                    "Run a rebalancing pass of \(event?.name ?? id) now, asked by \(action.operatorName)?",
                    action: "\(eventPath(id))/rebalance", button: "Rebalance now", operatorName: action.operatorName,
                    cancel: eventPath(id), form: form, into: &html)
            case .close(let reason):
                let id = event?.id ?? ""
                html.element(
                    "p", ["class": "confirm"],
                    text: "End the sales of \(event?.name ?? id) on every platform, asked by \(action.operatorName)?")
                html.element("ul") { html in
                    html.element("li", text: "Every platform closes at what it has sold, within a second or two.")
                    html.element(
                        "li",
                        text: "Orders the platforms already made are still honoured: one made before its platform "
                            + "heard comes out of the free stock, as in red alert (if none is left it is flagged as overbooked).")
                    html.element("li", text: "The box office can still sell what is left, with approval.")
                    html.element("li", text: "There is no reopening from the dashboard.")
                }
                if let event {
                    html.element(
                        "p", text: "Sold now: \(event.sold) of \(event.capacity) (mode \(event.mode.dashboardLabel)).")
                }
                if let reason { html.element("p", text: "Reason: \(reason)") }
                html.element("form", ["method": "post", "action": "\(eventPath(id))/close"]) { html in
                    form.hidden(into: &html)
                    hidden("operator", action.operatorName, into: &html)
                    hidden("reason", reason ?? "", into: &html)
                    hidden("confirm", "yes", into: &html)
                    html.element("button", ["type": "submit", "class": "danger"], text: "End sales")
                    html.text(" ")
                    html.element("a", ["href": eventPath(id)], text: "Cancel")
                }
            case .failsafe(let on, let reason):
                html.element(
                    "p", ["class": "confirm"],
                    text: on
                        ? "Turn fail-safe ON for every event? Every platform is told to stop selling and no box-office sale is allowed until it is turned off."
                        : "Turn fail-safe OFF? Sales reopen once every daemon has rebuilt Redis from the ledger.")
                if let reason { html.element("p", text: "Reason: \(reason)") }
                html.element("form", ["method": "post", "action": "\(root)/failsafe"]) { html in
                    form.hidden(into: &html)
                    hidden("operator", action.operatorName, into: &html)
                    hidden("state", on ? "on" : "off", into: &html)
                    hidden("reason", reason ?? "", into: &html)
                    hidden("confirm", "yes", into: &html)
                    html.element("button", ["type": "submit", "class": "danger"], text: on ? "Turn fail-safe on" : "Turn fail-safe off")
                    html.text(" ")
                    html.element("a", ["href": event.map { eventPath($0.id) } ?? root], text: "Cancel")
                }
            }
        }
    }

    /// An event action's part of the page: a title, what it does, and its form (the operator's name,
    /// and a reason when `reason`; the button red when `danger`).
    private static func actionForm(
        _ title: String, _ note: String, action: String, button: String, reason: Bool = false, danger: Bool = false,
        form: FormContext, into html: inout HTML
    ) {
        html.element("h2", text: title)
        html.element("p", text: note)
        html.element("form", ["method": "post", "action": action]) { html in
            form.hidden(into: &html)
            operatorField(form, into: &html)
            if reason { reasonField(into: &html) }
            html.element("button", ["type": "submit", "class": danger ? "danger" : nil], text: button)
        }
    }

    /// The confirmation of an action that carries nothing but the operator's name.
    private static func confirmForm(
        _ question: String, action: String, button: String, operatorName: String, cancel: String, form: FormContext,
        into html: inout HTML
    ) {
        html.element("p", ["class": "confirm"], text: question)
        html.element("form", ["method": "post", "action": action]) { html in
            form.hidden(into: &html)
            hidden("operator", operatorName, into: &html)
            hidden("confirm", "yes", into: &html)
            html.element("button", ["type": "submit"], text: button)
            html.text(" ")
            html.element("a", ["href": cancel], text: "Cancel")
        }
    }

    /// The answer to an action (or its refusal): what happened and the way back.
    static func outcome(_ title: String, _ message: String, success: Bool, back: String) -> HTML {
        page(title: title) { html in
            html.element("div", ["class": success ? "notice ok" : "notice refused", "role": "status"]) { html in
                html.element("h1", text: title)
                html.element("p", text: message)
            }
            html.element("p") { $0.element("a", ["href": back], text: "Back") }
        }
    }

    // MARK: - Parts

    /// What every form carries: the CSRF token, and a name to suggest for the operator.
    struct FormContext: Sendable, Hashable {
        var csrfToken: String
        var operatorHint: String?

        func hidden(into html: inout HTML) {
            DashboardPages.hidden(CSRFGuard.fieldName, csrfToken, into: &html)
        }
    }

    private static func page(title: String, script: Bool = false, _ body: (inout HTML) -> Void) -> HTML {
        var html = HTML()
        html.doctype()
        html.element("html", ["lang": "en"]) { html in
            html.element("head") { html in
                html.void("meta", ["charset": "utf-8"])
                html.void("meta", ["name": "viewport", "content": "width=device-width, initial-scale=1"])
                html.element("title", text: "\(title) · Traffic Police")
                html.void("link", ["rel": "stylesheet", "href": "\(root)/assets/dashboard.css"])
                if script { html.element("script", ["src": "\(root)/assets/live.js", "defer": ""]) }
            }
            html.element("body") { html in
                html.element("header") { $0.element("a", ["href": root], text: "Traffic Police") }
                html.element("main", [:], body)
            }
        }
        return html
    }

    private static func banner(_ banner: DashboardBanner, into html: inout HTML) {
        html.element("div", ["class": "banner \(banner.kind.rawValue)", "role": "alert"]) { html in
            html.element("strong", text: banner.title)
            html.element("div", text: banner.reason)
            if let since = banner.since { html.element("div", text: "Since \(since)") }
        }
    }

    private static func modeBadge(_ mode: EventMode, into html: inout HTML) {
        html.element("span", ["class": "badge mode-\(mode.rawValue)"], text: mode.dashboardLabel)
    }

    private static func splitBar(_ bar: SplitBar, into html: inout HTML) {
        html.element("div", ["class": "bar", "role": "img", "aria-label": bar.segments.map { "\($0.label) \($0.sold)/\($0.allocation)" }.joined(separator: ", ")]) { html in
            for segment in bar.segments where segment.widthPercent > 0 {
                html.element(
                    "div",
                    ["class": "seg ch-\(segment.channel)", "style": "width:\(segment.widthPercent)%",
                     "title": "\(segment.label): \(segment.sold) sold of \(segment.allocation)"]
                ) { html in
                    html.element("div", ["class": "fill", "style": "width:\(segment.filledPercent)%"])
                }
            }
        }
        html.element("ul", ["class": "legend"]) { html in
            for segment in bar.segments {
                html.element("li", ["class": "ch-\(segment.channel)"], text: "\(segment.label) \(segment.sold)/\(segment.allocation)")
            }
        }
    }

    /// The chart as inline SVG: a line per channel, the soft cap dashed, a marker per capacity change.
    private static func salesChart(_ chart: SalesChart, into html: inout HTML) {
        let summary = chart.series.map { "\($0.label) \($0.total)" }.joined(separator: ", ")
        html.element(
            "svg",
            ["class": "chart", "viewBox": "0 0 \(Int(SalesChart.width)) \(Int(SalesChart.height))",
             "preserveAspectRatio": "none", "role": "img", "aria-label": "Tickets sold over time: \(summary)"]
        ) { html in
            html.element(
                "line", ["class": "soft-cap", "x1": "0", "x2": "\(SalesChart.width)", "y1": "\(chart.softCapY)", "y2": "\(chart.softCapY)"]
            ) { $0.element("title", text: "soft cap") }
            for marker in chart.markers {
                html.element(
                    "line", ["class": "change \(marker.kind)", "x1": "\(marker.x)", "x2": "\(marker.x)", "y1": "0", "y2": "\(SalesChart.height)"]
                ) { $0.element("title", text: marker.label) }
            }
            for series in chart.series {
                html.element("polyline", ["class": "ch-\(series.channel)", "points": series.points]) {
                    $0.element("title", text: "\(series.label): \(series.total)")
                }
            }
        }
        html.element(
            "p", ["class": "muted"],
            text: "\(chart.from) to \(chart.to) UTC. Dashed: the soft cap. Vertical lines: capacity changes "
                + "(hover for the fencing token).")
    }

    private static func failsafeSwitchForm(_ state: FailsafeState, form: FormContext, into html: inout HTML) {
        let on = state.overview?.failsafeSwitch.on ?? false
        html.element("h2", text: "Fail-safe switch")
        html.element("p", text: on ? "The operators' switch is ON." : "The operators' switch is off.")
        html.element("form", ["method": "post", "action": "\(root)/failsafe"]) { html in
            form.hidden(into: &html)
            hidden("state", on ? "off" : "on", into: &html)
            operatorField(form, into: &html)
            reasonField(into: &html)
            html.element("button", ["type": "submit", "class": on ? nil : "danger"], text: on ? "Turn fail-safe off…" : "Turn fail-safe on…")
        }
    }

    private static func operatorField(_ form: FormContext, into html: inout HTML) {
        labelled("Operator", into: &html) {
            $0.void(
                "input",
                ["type": "text", "name": "operator", "required": "", "maxlength": "200", "autocomplete": "name",
                 "value": form.operatorHint])
        }
    }

    private static func reasonField(into html: inout HTML) {
        labelled("Reason", into: &html) { $0.void("input", ["type": "text", "name": "reason", "maxlength": "200"]) }
    }

    private static func labelled(_ label: String, into html: inout HTML, _ field: (inout HTML) -> Void) {
        html.element("label") { html in
            html.element("span", text: label)
            field(&html)
        }
    }

    private static func hidden(_ name: String, _ value: String, into html: inout HTML) {
        html.void("input", ["type": "hidden", "name": name, "value": value])
    }

    private static func figure(_ label: String, into html: inout HTML, _ value: (inout HTML) -> Void) {
        html.element("div") { html in
            html.element("dt", text: label)
            html.element("dd", [:], value)
        }
    }

    private static func row(
        _ cells: [String], header: Bool = false, numeric: Set<Int> = [], rowClass: String? = nil, into html: inout HTML
    ) {
        html.element("tr", ["class": rowClass]) { html in
            for (index, cell) in cells.enumerated() {
                html.element(header ? "th" : "td", ["class": numeric.contains(index) ? "num" : nil], text: cell)
            }
        }
    }
}
