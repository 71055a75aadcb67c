import Foundation
import Testing
@testable import TrafficPolice
import TrafficPoliceCore

/// The dashboard's pure parts: escaping, the CSRF decision, forms, banners, the split bar, SSE framing.
@Suite struct DashboardModelTests {
    static func snapshot(
        name: String = "Launch", capacity: Int = 100, sold: [SalesChannel: Int] = [:], mode: EventMode = .open,
        allocation: [Platform: Int] = [.eventbrite: 30, .luma: 30, .meetup: 30]
    ) throws -> EventSnapshot {
        let policy = try CapacityPolicy(capacity: capacity)
        let counters = EventCounters(
            capacity: capacity, stock: capacity - sold.values.reduce(0, +), allocation: allocation, sold: sold, mode: mode)
        return EventSnapshot(
            event: EventRecord(id: try EventID("ev-1"), name: name, policy: policy, mode: mode), counters: counters,
            listings: [:], source: "redis")
    }

    @Test func theBuilderEscapesTextAndAttributes() {
        var html = HTML()
        html.element("a", ["href": #"/x?a="b"&c='d'"#, "title": nil], text: "<script>alert(1)</script> & co")
        #expect(
            html.markup
                == #"<a href="/x?a=&quot;b&quot;&amp;c=&#39;d&#39;">&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</a>"#)
        html = HTML()
        html.void("input", ["type": "hidden", "value": #""><img src=x>"#])
        #expect(html.markup == #"<input type="hidden" value="&quot;&gt;&lt;img src=x&gt;">"#)
    }

    @Test func pagesEscapeEverythingFromData() throws {
        let evil = #"<img src=x onerror="alert(1)">"#
        let snapshot = try Self.snapshot(name: evil, sold: [.platform(.luma): 7])
        let form = DashboardPages.FormContext(csrfToken: String(repeating: "a", count: 64), operatorHint: #"ana"><b>"#)
        let list = DashboardPages.eventsList([snapshot], failsafe: FailsafeState(overview: nil), form: form).markup
        #expect(!list.contains("<img"))
        #expect(list.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"))
        #expect(!list.contains("<b>"))
        var board = EventBoard(snapshot: snapshot)
        board.flaggedOrders = [OrderRecord(channel: .platform(.luma), orderID: "<gst-1>", quantity: 2, outcome: .overbooked)]
        let page = DashboardPages.eventPage(board, form: form).markup
        #expect(!page.contains("<img") && !page.contains("<gst-1>") && page.contains("&lt;gst-1&gt;"))
        #expect(page.contains(#"name="csrf" value="\#(String(repeating: "a", count: 64))""#))
        #expect(page.contains(#"<meta name="viewport""#))
    }

    @Test func theCSRFRuleNeedsTheTokenTwiceAndTheSameOrigin() {
        let token = CSRFGuard.newToken()
        #expect(token.count == 64 && CSRFGuard.isWellFormed(token) && token != CSRFGuard.newToken())
        func check(
            cookie: String? = "tp_dashboard_csrf=\(token)", form: String? = nil, origin: String? = nil,
            site: String? = nil, host: String? = "ops.example.org"
        ) -> CSRFGuard.Verdict {
            CSRFGuard.check(
                .init(cookieHeader: cookie, formToken: form ?? token, origin: origin, secFetchSite: site, host: host))
        }
        #expect(check() == .allowed)
        #expect(check(cookie: "theme=dark; tp_dashboard_csrf=\(token); x=1") == .allowed)
        #expect(check(origin: "https://ops.example.org", site: "same-origin") == .allowed)
        #expect(check(origin: "http://OPS.example.org") == .allowed)
        #expect(check(site: "none") == .allowed)
        #expect(check(cookie: nil) != .allowed)
        #expect(check(cookie: "tp_dashboard_csrf=short") != .allowed)
        #expect(check(form: "") != .allowed)
        #expect(check(form: CSRFGuard.newToken()) != .allowed)
        #expect(check(origin: "https://evil.example") != .allowed)
        #expect(check(origin: "https://ops.example.org.evil.example") != .allowed)
        #expect(check(origin: "null") != .allowed)
        #expect(check(origin: "https://ops.example.org", host: nil) != .allowed)
        #expect(check(site: "cross-site") != .allowed)
        #expect(check(site: "same-site") != .allowed)
        #expect(CSRFGuard.setCookie(token) == "tp_dashboard_csrf=\(token); Path=/dashboard; HttpOnly; SameSite=Strict")
        #expect(CSRFGuard.setCookie(token, secure: true).hasSuffix("; SameSite=Strict; Secure"))
    }

    @Test func formsDecodeIntoActions() throws {
        let form = FormFields(urlEncoded: Array("operator=Ana+B%C3%B6&quantity=+3&csrf=x&quantity=9&confirm=yes&sale_id=s1".utf8))
        #expect(form["operator"] == "Ana Bö" && form["quantity"] == " 3")
        let sale = try DashboardAction.sale(form, newSaleID: { "new" }).get()
        #expect(sale.operatorName == "Ana Bö" && sale.confirmed)
        let confirmed = try BoxOfficeSale(quantity: 3, approvedBy: "Ana Bö", saleID: "s1")
        #expect(sale.kind == .sell(confirmed))
        let unconfirmed = try DashboardAction.sale(FormFields(["operator": "ana", "quantity": "2"]), newSaleID: { "new" }).get()
        let expected = try BoxOfficeSale(quantity: 2, approvedBy: "ana", saleID: "new")
        #expect(!unconfirmed.confirmed && unconfirmed.kind == .sell(expected))
        for bad in [["operator": " ", "quantity": "1"], ["operator": "ana", "quantity": "0"], ["operator": "ana", "quantity": "1.5"],
            ["operator": "ana"], ["quantity": "1"]]
        {
            #expect(throws: DashboardFormError.self, "\(bad)") { try DashboardAction.sale(FormFields(bad), newSaleID: { "n" }).get() }
        }
        let on = try DashboardAction.failsafe(FormFields(["operator": "bo", "state": "on", "reason": " Redis upgrade "])).get()
        #expect(on.kind == .failsafe(on: true, reason: "Redis upgrade") && !on.confirmed)
        let off = try DashboardAction.failsafe(FormFields(["operator": "bo", "state": "off", "reason": "", "confirm": "yes"])).get()
        #expect(off.kind == .failsafe(on: false, reason: nil) && off.confirmed)
        #expect(throws: DashboardFormError.self) { try DashboardAction.failsafe(FormFields(["operator": "bo", "state": "maybe"])).get() }
        let reconcile = try DashboardAction.reconcile(FormFields(["operator": " cy ", "confirm": "yes"])).get()
        #expect(reconcile == DashboardAction(kind: .reconcile, operatorName: "cy", confirmed: true))
        #expect(throws: DashboardFormError.self) { try DashboardAction.reconcile(FormFields(["confirm": "yes"])).get() }
    }

    @Test func theEndOfSalesFormDecodesAndItsPagesSayWhatHappens() throws {
        let close = try DashboardAction.close(FormFields(["operator": " ana ", "reason": " venue <shut> ", "confirm": "yes"])).get()
        #expect(close == DashboardAction(kind: .close(reason: "venue <shut>"), operatorName: "ana", confirmed: true))
        let bare = try DashboardAction.close(FormFields(["operator": "bo", "reason": "  "])).get()
        #expect(bare == DashboardAction(kind: .close(reason: nil), operatorName: "bo", confirmed: false))
        #expect(try DashboardAction.close(FormFields(["operator": "bo"])).get().kind == .close(reason: nil))
        let longest = String(repeating: "x", count: DashboardAction.maximumTextLength)
        #expect(try DashboardAction.close(FormFields(["operator": "bo", "reason": longest])).get().kind == .close(reason: longest))
        for bad in [["reason": "x"], ["operator": " ", "reason": "x"], ["operator": "bo", "reason": longest + "x"],
            ["operator": longest + "x"]]
        {
            #expect(throws: DashboardFormError.self, "\(bad)") { try DashboardAction.close(FormFields(bad)).get() }
        }

        // The button (red, with a reason field) only where the server offers it and the event is not closed yet.
        let form = DashboardPages.FormContext(csrfToken: "t", operatorHint: nil)
        let button = #"<button type="submit" class="danger">End sales…</button>"#
        let red = DashboardPages.eventPage(EventBoard(snapshot: try Self.snapshot(mode: .redAlert)), form: form, close: true)
        #expect(red.markup.contains(#"<form method="post" action="/dashboard/events/ev-1/close">"#))
        #expect(red.markup.contains(button) && red.markup.contains(#"name="reason""#))
        let closed = DashboardPages.eventPage(EventBoard(snapshot: try Self.snapshot(mode: .closed)), form: form, close: true)
        #expect(!closed.markup.contains("/close") && !closed.markup.contains("End sales"))
        let notOffered = DashboardPages.eventPage(EventBoard(snapshot: try Self.snapshot()), form: form)
        #expect(!notOffered.markup.contains("/close") && !notOffered.markup.contains("End sales"))

        // The confirmation says what happens and carries the fields again.
        let confirm = DashboardPages.confirmation(
            close, event: try Self.snapshot(name: "Launch", sold: [.platform(.luma): 7]), form: form
        ).markup
        for text in [
            "End the sales of Launch on every platform, asked by ana?", "closes at what it has sold, within a second or two",
            "Orders the platforms already made are still honoured", "The box office can still sell what is left, with approval.",
            "There is no reopening from the dashboard.", "Sold now: 7 of 100 (mode open).", "Reason: venue &lt;shut&gt;",
            #"<form method="post" action="/dashboard/events/ev-1/close">"#, #"name="operator" value="ana""#,
            #"name="reason" value="venue &lt;shut&gt;""#, #"name="confirm" value="yes""#,
            #"<button type="submit" class="danger">End sales</button>"#,
        ] {
            #expect(confirm.contains(text), "\(text)")
        }
    }

    @Test func bannersSayWhatWhenAndWhy() throws {
        let open = EventBoard(snapshot: try Self.snapshot())
        #expect(DashboardBanner.banners(for: open).isEmpty)

        var red = EventBoard(snapshot: try Self.snapshot(sold: [.platform(.luma): 90], mode: .redAlert))
        red.capacityChanges = [
            CapacityChangeRecord(
                id: 7, platform: nil, kind: .redAlert, fence: 3, detail: "sold reached the soft cap",
                createdAt: Date(timeIntervalSince1970: 1_800_000_000))
        ]
        let redBanners = DashboardBanner.banners(for: red)
        #expect(redBanners.map(\.kind) == [.redAlert])
        #expect(redBanners.first?.since == "2027-01-15T08:00:00Z")
        #expect(redBanners.first?.reason == "sold reached the soft cap")

        var manual = red
        manual.failsafe = FailsafeState(
            overview: FailsafeOverview(
                failsafeSwitch: FailsafeSwitch(on: true, changedBy: "ana", reason: "Redis upgrade", changedAt: "2026-11-28T19:00:00.000Z"),
                instances: []))
        let both = DashboardBanner.banners(for: manual)
        #expect(both.map(\.kind) == [.failsafe, .redAlert])
        #expect(both.first?.since == "2026-11-28T19:00:00.000Z")
        #expect(both.first?.reason.contains("ana") == true && both.first?.reason.contains("Redis upgrade") == true)

        let local = DashboardBanner.failsafe(FailsafeState(overview: nil, localStatus: "3 pings missed"))
        #expect(local?.reason.contains("3 pings missed") == true)
        #expect(DashboardBanner.failsafe(FailsafeState(overview: nil), eventMode: .failsafe) != nil)
        #expect(DashboardBanner.failsafe(FailsafeState(overview: FailsafeOverview(failsafeSwitch: .init(on: false), instances: []))) == nil)
    }

    @Test func theSplitBarIsAllocationsFilledToSales() throws {
        let bar = SplitBar(try Self.snapshot(sold: [.platform(.eventbrite): 15, .boxOffice: 2]))
        #expect(bar.segments.map(\.channel) == ["eventbrite", "luma", "meetup", "box_office"])
        #expect(bar.segments.map(\.widthPercent) == [30, 30, 30, 10])
        #expect(bar.segments.map(\.filledPercent) == [50, 0, 0, 20])
        #expect(SplitBar.percent(1, of: 3) == 33.3)
        #expect(SplitBar.percent(5, of: 0) == 0 && SplitBar.percent(9, of: 4) == 100)
    }

    @Test func theSalesChartIsCumulativePerChannelWithFencedChanges() throws {
        let start = 1_800_000_000.0
        let sales = [
            SalesPoint(channel: "luma", at: start, tickets: 2), SalesPoint(channel: "eventbrite", at: start + 5, tickets: 1),
            SalesPoint(channel: "luma", at: start + 10, tickets: 3),
        ]
        let grow = CapacityChangeRecord(
            id: 1, platform: .luma, kind: .grow, capacity: 40, fence: 7, createdAt: Date(timeIntervalSince1970: start + 5))
        let chart = try #require(SalesChart(sales: sales, changes: [grow], capacity: 100, softCap: 90))
        #expect(chart.series.map(\.channel) == ["eventbrite", "luma"])
        #expect(chart.series.map(\.total) == [1, 5])
        #expect(chart.series.last?.points == "0.0,200.0 0.0,200.0 0.0,196.0 600.0,196.0 600.0,190.0 600.0,190.0")
        #expect(chart.series.first?.points == "0.0,200.0 300.0,200.0 300.0,198.0 600.0,198.0")
        #expect(chart.markers == [.init(x: 300, kind: "grow", label: "2027-01-15T08:00:05Z fence 7: grow luma capacity 40")])
        #expect(chart.softCapY == 20)
        #expect(chart.from == "2027-01-15T08:00:00Z" && chart.to == "2027-01-15T08:00:10Z")
        #expect(SalesChart(sales: [], changes: [], capacity: 10, softCap: 9) == nil)
    }

    @Test func serverSentEventsPutEachLineOnADataLine() {
        #expect(LiveFeed.event("update", data: "<p>a</p>") == "event: update\ndata: <p>a</p>\n\n")
        #expect(LiveFeed.event("update", data: "a\nb\r\nc\rd") == "event: update\ndata: a\ndata: b\ndata: c\ndata: d\n\n")
    }
}
