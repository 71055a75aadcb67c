import Foundation
import Logging
import PostgresBridge
import Testing
import TrafficPolice
import TrafficPoliceCore

/// The operator dashboard on a real admin socket, against the real Redis and PostgreSQL.
@Suite("Dashboard", .timeLimit(.minutes(1)))
struct DashboardServerTests {
    struct World {
        let stack: TestStack
        let event: EventID
        let path: String
        let logs: LogCapture

        var eventPath: String { "/dashboard/events/\(event.rawValue)" }

        func get(_ target: String, token: String? = nil) async throws -> RawResponse {
            let client = try await RawClient.connect(path)
            defer { Task { await client.close() } }
            var text = "GET \(target) HTTP/1.1\r\nHost: localhost\r\n"
            if let token { text += "Cookie: tp_dashboard_csrf=\(token)\r\n" }
            await client.send(text + "\r\n")
            // Generous: the events list covers every event of the shared test database.
            return try #require(try await client.response(timeout: .seconds(15)), "\(target)")
        }

        /// A form POST; `token` goes in the cookie and (unless `formToken` says otherwise) the form.
        func post(
            _ target: String, _ fields: [(String, String)], token: String?, formToken: String? = nil,
            headers: [(String, String)] = []
        ) async throws -> RawResponse {
            var fields = fields
            if let field = formToken ?? token { fields.append(("csrf", field)) }
            let body = fields.map { "\($0.0)=\(Self.encode($0.1))" }.joined(separator: "&")
            let cookie: [(String, String)] = token.map { [("Cookie", "theme=dark; tp_dashboard_csrf=\($0)")] } ?? []
            let client = try await RawClient.connect(path)
            defer { Task { await client.close() } }
            await client.send(
                RawRequest.post(target, body: body, headers: cookie + headers, contentType: "application/x-www-form-urlencoded"))
            return try #require(try await client.response(), "\(target) \(body)")
        }

        /// The statuses of `fields` posted to `target` without the token, with an empty form token and
        /// from another origin (each should be 403).
        func refusedStatuses(_ target: String, _ fields: [(String, String)], token: String) async throws -> [Int] {
            [
                try await post(target, fields, token: nil).status,
                try await post(target, fields, token: token, formToken: "").status,
                try await post(target, fields, token: token, headers: [("Origin", "https://evil.example")]).status,
            ]
        }

        /// The session token a page hands out in its cookie (the event's page: the list may be long on
        /// a shared database).
        func token() async throws -> String {
            let page = try await get(eventPath)
            let cookie = try #require(page.header("set-cookie"))
            let value = try #require(cookie.split(separator: ";").first?.split(separator: "=").last)
            return String(value)
        }

        func ledgerSold() async throws -> Int {
            let rows = try await stack.postgres.query(
                "SELECT coalesce(sum(quantity), 0)::int AS sold FROM box_office_sales WHERE event_id = $1", [event.rawValue])
            return try rows.first?.decode("sold") ?? -1
        }

        static func encode(_ value: String) -> String {
            value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        }
    }

    static func withWorld(
        configure: (inout AdminServer.Configuration) -> Void = { _ in }, ledger: Ledger? = nil,
        reconciliations: DashboardReconciliations? = nil,
        rebalance: (@Sendable (EventID, String) async -> RebalanceRequests.Outcome)? = nil,
        source adjust: (inout DashboardSource) -> Void = { _ in }, _ body: (World) async throws -> Void
    ) async throws {
        try await TestStack.with { stack in
            let event = try TestServers.eventID("dash")
            try await stack.desk.create(
                id: event, name: "Dashboard <Launch>", policy: try CapacityPolicy(capacity: 100), split: .equal)
            let export = PrometheusExport()
            let path = testSocketPath("dash")
            var configuration = AdminServer.Configuration()
            configuration.socket = .path(path)
            configure(&configuration)
            let desk = ledger.map { EventDesk(ledger: $0, reservations: stack.reservations) } ?? stack.desk
            let logs = LogCapture()
            var source = DashboardSource.live(desk: desk, queue: nil, reconciliations: reconciliations)
            source.rebalance = rebalance
            adjust(&source)
            let admin = AdminServer(
                configuration: configuration, registry: export.registry, snapshot: { try await desk.snapshot($0) },
                sell: { try await desk.sell($0, quantity: $1.quantity, approvedBy: $1.approvedBy, saleID: $1.saleID) },
                dashboard: source, metricsFactory: export.factory,
                logger: Logger(label: "test.dashboard") { _ in logs })
            try await withRunningService(admin, listening: admin.listening) {
                try await body(World(stack: stack, event: event, path: path, logs: logs))
            }
        }
    }

    static func text(_ response: RawResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func pagesShowTheEventsFigures() async throws {
        try await Self.withWorld { world in
            _ = try await world.stack.desk.apply(
                event: world.event, platform: .luma, orderID: "gst-dash-1", quantity: 4, source: .test)
            let list = try await world.get("/dashboard")
            #expect(list.status == 200)
            #expect(list.header("content-type") == "text/html; charset=utf-8")
            #expect(list.header("content-security-policy")?.contains("default-src 'none'") == true)
            #expect(list.header("set-cookie")?.hasPrefix("tp_dashboard_csrf=") == true)
            let listText = Self.text(list)
            #expect(listText.contains("Dashboard &lt;Launch&gt;") && !listText.contains("<Launch>"))
            #expect(listText.contains(#"href="/dashboard/events/\#(world.event.rawValue)""#))
            #expect(listText.contains(#"<td class="num">96</td>"#))  // stock

            let page = try await world.get(world.eventPath, token: try await world.token())
            #expect(page.status == 200)
            #expect(page.header("set-cookie") == nil)  // the session's cookie is kept
            let text = Self.text(page)
            for figure in ["<dt>Capacity</dt><dd>100</dd>", "<dt>Sold</dt><dd>4</dd>", "<dt>Stock</dt><dd>96</dd>",
                "<dt>Safety stock</dt><dd>10</dd>", "<dt>Free for the box office</dt><dd>10</dd>"]
            {
                #expect(text.contains(figure), "\(figure)")
            }
            #expect(text.contains("Luma 4/30"))
            #expect(text.contains(#"<svg class="chart""#) && text.contains(#"<polyline class="ch-luma""#))
            #expect(!text.contains(#"<polyline class="ch-meetup""#))
            #expect(text.contains(#"data-src="/dashboard/events/\#(world.event.rawValue)/live""#))
            #expect(!text.contains("FAIL-SAFE") && !text.contains("RED ALERT"))

            let unknown = "/dashboard/events/no-such-\(UUID().uuidString.prefix(6).lowercased())"
            #expect(try await world.get(unknown).status == 404)
            #expect(try await world.get(unknown + "/live").status == 404)
            let css = try await world.get("/dashboard/assets/dashboard.css")
            #expect(css.status == 200 && css.header("content-type")?.hasPrefix("text/css") == true)
            #expect(Self.text(try await world.get("/dashboard/assets/live.js")).contains("new EventSource"))
            #expect(try await world.get("/dashboard/assets/other.js").status == 404)
        }
    }

    @Test func aConfirmedSaleWithTheTokenSellsAndIsInTheLedger() async throws {
        try await Self.withWorld { world in
            let token = try await world.token()
            let target = "\(world.eventPath)/sales"
            let asked = try await world.post(target, [("quantity", "2"), ("operator", " ana ")], token: token)
            #expect(asked.status == 200)
            let confirm = Self.text(asked)
            #expect(confirm.contains("Confirm the sale") && confirm.contains("approved by ana"))
            #expect(try await world.ledgerSold() == 0)  // nothing is sold before the confirmation
            let saleID = try #require(
                confirm.firstMatch(of: /name="sale_id" value="([0-9a-f-]+)"/).map { String($0.output.1) })

            let fields = [("quantity", "2"), ("operator", "ana"), ("sale_id", saleID), ("confirm", "yes")]
            let sold = try await world.post(target, fields, token: token, headers: [("Origin", "http://localhost")])
            #expect(sold.status == 200)
            #expect(Self.text(sold).contains("Sold 2 tickets"))
            let rows = try await world.stack.postgres.query(
                "SELECT approved_by, quantity FROM box_office_sales WHERE event_id = $1 AND id = $2",
                [world.event.rawValue, saleID])
            #expect(rows.first?["approved_by"] == "ana" && rows.first?["quantity"] == "2")
            let logged = world.logs.entries.filter { $0.message == "box-office sale" }
            #expect(logged.count == 1)
            #expect(logged.first?.level == .notice)
            #expect(logged.first?.fields["OPERATOR"] == "ana" && logged.first?.fields["SOURCE"] == "dashboard")
            #expect(logged.first?.fields["EVENT_ID"] == world.event.rawValue)

            // Confirming twice (a double click, a reload) sells once.
            let again = try await world.post(target, fields, token: token)
            #expect(again.status == 200 && Self.text(again).contains("already made"))
            #expect(try await world.ledgerSold() == 2)

            let over = try await world.post(
                target, [("quantity", "50"), ("operator", "ana"), ("confirm", "yes")], token: token)
            #expect(over.status == 409)
            #expect(try await world.ledgerSold() == 2)
        }
    }

    @Test func withoutTheTokenOrFromAnotherSiteNothingIsSold() async throws {
        try await Self.withWorld { world in
            let token = try await world.token()
            let target = "\(world.eventPath)/sales"
            let fields = [("quantity", "1"), ("operator", "mallory"), ("confirm", "yes")]
            let refusals: [RawResponse] = [
                try await world.post(target, fields, token: nil),
                try await world.post(target, fields, token: token, formToken: ""),
                try await world.post(target, fields, token: token, formToken: CSRFGuard.newToken()),
                try await world.post(target, fields, token: token, headers: [("Origin", "https://evil.example")]),
                try await world.post(target, fields, token: token, headers: [("Sec-Fetch-Site", "cross-site")]),
            ]
            #expect(refusals.map(\.status) == [403, 403, 403, 403, 403])
            #expect(try await world.ledgerSold() == 0)
            #expect(try await world.stack.desk.snapshot(world.event).sold == 0)
            #expect(world.logs.entries.filter { $0.message == "dashboard request refused (CSRF)" }.count == 5)
            #expect(world.logs.entries.filter { $0.message == "box-office sale" }.isEmpty)
            // The same request with the token sells: the refusals above were the token's doing.
            #expect(try await world.post(target, fields, token: token).status == 200)
            #expect(try await world.ledgerSold() == 1)
        }
    }

    @Test func failsafeRefusesTheSaleAndShowsItsBanner() async throws {
        let runner = DashboardReconciliations(reconcile: { _ in .agrees }, logger: Logger(label: "test"))
        try await Self.withWorld(reconciliations: runner) { world in
            try await world.stack.ledger.setMode(.failsafe, event: world.event)
            _ = try await world.stack.reservations.setMode(.failsafe, event: world.event)
            let token = try await world.token()
            let refused = try await world.post(
                "\(world.eventPath)/sales", [("quantity", "1"), ("operator", "ana"), ("confirm", "yes")], token: token)
            #expect(refused.status == 423)
            #expect(Self.text(refused).contains("fail-safe"))
            #expect(try await world.ledgerSold() == 0)
            let page = Self.text(try await world.get(world.eventPath, token: token))
            #expect(page.contains(#"class="banner failsafe""#) && page.contains("FAIL-SAFE"))
            let reconcile = try await world.post(
                "\(world.eventPath)/reconcile", [("operator", "ana"), ("confirm", "yes")], token: token)
            #expect(reconcile.status == 423)
        }
    }

    @Test func theLiveStreamSendsAnUpdateAfterASaleAndEndsOnShutdown() async throws {
        let bodyEnded = Locked(ContinuousClock.now)
        let client = Locked<RawClient?>(nil)
        try await Self.withWorld(configure: {
            $0.dashboard.pollInterval = .milliseconds(100)
            $0.dashboard.heartbeatInterval = .milliseconds(300)
            $0.limits.shutdownGracePeriod = .seconds(30)
        }) { world in
            let live = try await RawClient.connect(world.path)
            client.withLock { $0 = live }
            await live.send(RawRequest.get("\(world.eventPath)/live"))
            #expect(try await live.waitForText { $0.contains("event: update\n") && $0.contains("<dt>Sold</dt><dd>0</dd>") })
            let head = live.receivedText.lowercased()
            #expect(head.hasPrefix("http/1.1 200"))
            #expect(head.contains("content-type: text/event-stream") && head.contains("transfer-encoding: chunked"))
            #expect(try await live.waitForText { $0.contains(": heartbeat\n") })
            // Nothing changed: nothing but heartbeats.
            #expect(live.receivedText.components(separatedBy: "event: update").count == 2)

            let result = try await world.stack.desk.sell(world.event, quantity: 3, approvedBy: "ana", saleID: "live-1")
            #expect(result == .sold(stockAfter: 97, enteredRedAlert: false))
            #expect(try await live.waitForText { $0.contains("<dt>Sold</dt><dd>3</dd>") && $0.contains("<dt>Stock</dt><dd>97</dd>") })
            #expect(live.receivedText.components(separatedBy: "event: update").count == 3)
            bodyEnded.withLock { $0 = .now }
        }
        // Graceful shutdown ended the stream at once (not after the 30 s grace period).
        #expect(ContinuousClock.now - bodyEnded.value < .seconds(5))
        let live = try #require(client.value)
        #expect(try await live.closed(within: .seconds(1)))
        #expect(live.receivedText.hasSuffix("0\r\n\r\n"))  // the chunked body's end
        await live.close()
    }

    @Test func liveClientsAreBoundedAndCountedOut() async throws {
        try await Self.withWorld(configure: { $0.dashboard.maxLiveClients = 1 }) { world in
            let first = try await RawClient.connect(world.path)
            await first.send(RawRequest.get("\(world.eventPath)/live"))
            #expect(try await first.waitForText { $0.contains("event: update") })
            let second = try await RawClient.connect(world.path)
            await second.send(RawRequest.get("\(world.eventPath)/live"))
            let refused = try #require(try await second.response())
            #expect(refused.status == 503 && refused.errorCode == "too_many_live_clients")
            await second.close()
            await first.close()
            // The first client's slot is freed once it is gone.
            var admitted = false
            for _ in 0..<50 where !admitted {
                let third = try await RawClient.connect(world.path)
                await third.send(RawRequest.get("\(world.eventPath)/live"))
                admitted = try await third.response()?.status == 200
                await third.close()
                if !admitted { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(admitted)
        }
    }

    @Test func aReconciliationIsStartedOncePerEventWithTheToken() async throws {
        let calls = Locked<[String]>([])
        let release = Locked(false)
        let runnerLogs = LogCapture()
        let runner = DashboardReconciliations(
            reconcile: { event in
                calls.withLock { $0.append(event.rawValue) }
                while !release.value { try await Task.sleep(for: .milliseconds(10)) }
                return .agrees
            }, logger: Logger(label: "test.reconcile") { _ in runnerLogs })
        let running = Task { await runner.run() }
        defer { running.cancel() }
        try await Self.withWorld(reconciliations: runner) { world in
            let target = "\(world.eventPath)/reconcile"
            let token = try await world.token()
            #expect(try await world.post(target, [("operator", "ana"), ("confirm", "yes")], token: nil).status == 403)
            let asked = try await world.post(target, [("operator", "ana")], token: token)
            #expect(asked.status == 200 && Self.text(asked).contains("Reconcile now"))
            #expect(try await world.post(target, [("confirm", "yes")], token: token).status == 400)  // no operator
            #expect(calls.value.isEmpty)

            #expect(try await world.post(target, [("operator", "ana"), ("confirm", "yes")], token: token).status == 202)
            #expect(try await eventually { calls.value == [world.event.rawValue] })
            #expect(try await world.post(target, [("operator", "bo"), ("confirm", "yes")], token: token).status == 409)
            let started = world.logs.entries.filter { $0.message == "reconciliation started" }
            #expect(started.count == 1 && started.first?.fields["OPERATOR"] == "ana")
            release.withLock { $0 = true }
            #expect(try await eventually { runnerLogs.entries.contains { $0.message == "reconciliation from the dashboard finished" } })
            #expect(runnerLogs.entries.first?.fields["OUTCOME"] == "agrees")
            #expect(try await world.post(target, [("operator", "bo"), ("confirm", "yes")], token: token).status == 202)
            #expect(try await eventually { calls.value.count == 2 })
        }
        try await Self.withWorld { world in
            let token = try await world.token()
            let refused = try await world.post(
                "\(world.eventPath)/reconcile", [("operator", "ana"), ("confirm", "yes")], token: token)
            #expect(refused.status == 503)  // no reconciliations on this server
        }
    }

    @Test func theFailsafeSwitchIsSetWithTheTokenAndTheOperatorsName() async throws {
        // The switch is shared by every daemon on a ledger: this test has a database of its own.
        try await LedgerCapacityTests.withFreshDatabase { ledger in
            try await ledger.migrate()
            try await Self.withWorld(ledger: ledger) { world in
                let token = try await world.token()
                let fields = [("state", "on"), ("operator", "ana"), ("reason", "drill <1>")]
                #expect(try await world.post("/dashboard/failsafe", fields + [("confirm", "yes")], token: nil).status == 403)
                #expect(try await ledger.failsafeSwitch().on == false)
                let asked = try await world.post("/dashboard/failsafe", fields, token: token)
                #expect(asked.status == 200 && Self.text(asked).contains("Turn fail-safe on"))
                #expect(Self.text(asked).contains("drill &lt;1&gt;"))
                #expect(try await ledger.failsafeSwitch().on == false)
                let set = try await world.post("/dashboard/failsafe", fields + [("confirm", "yes")], token: token)
                #expect(set.status == 200)
                let now = try await ledger.failsafeSwitch()
                #expect(now.on && now.changedBy == "ana" && now.reason == "drill <1>")
                let logged = world.logs.entries.filter { $0.message == "fail-safe switch set" }
                #expect(logged.first?.fields["OPERATOR"] == "ana" && logged.first?.fields["FAILSAFE"] == "on")
                let list = Self.text(try await world.get("/dashboard", token: token))
                #expect(list.contains(#"class="banner failsafe""#) && list.contains("ana"))
                let off = try await world.post(
                    "/dashboard/failsafe", [("state", "off"), ("operator", "bo"), ("confirm", "yes")], token: token)
                #expect(off.status == 200)
                #expect(try await ledger.failsafeSwitch().on == false)
            }
        }
    }
}
