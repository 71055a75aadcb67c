import Logging
import NIOHTTP1
import TrafficPoliceCore

/// The operator dashboard's routes on the admin socket (thin: the decisions are in ``CSRFGuard``,
/// ``DashboardAction``, ``DashboardBanner`` and ``SplitBar``; the markup in `DashboardPages`).
///
/// `GET /dashboard` (events list), `GET /dashboard/events/{id}` (event page), `GET
/// /dashboard/events/{id}/live` (Server-Sent Events), `POST /dashboard/events/{id}/sales` (a
/// box-office sale, confirmed on a second page), `POST /dashboard/events/{id}/reconcile` (a
/// reconciliation, likewise), `POST /dashboard/events/{id}/rebalance` (a rebalancing pass, likewise;
/// only where a rebalancer runs), `POST /dashboard/events/{id}/close` (ending the event's sales,
/// likewise), `POST /dashboard/failsafe` (the operators' switch, likewise),
/// `GET /dashboard/assets/{name}`. Every POST needs the session's CSRF token and a
/// same-origin request (403 otherwise) and is logged with the operator's name.
struct DashboardRoutes: Sendable {
    let source: DashboardSource
    let snapshot: @Sendable (EventID) async throws -> EventSnapshot
    let sell: (@Sendable (EventID, BoxOfficeSale) async throws -> BoxOfficeResult)?
    let configuration: DashboardConfiguration
    let clients: LiveClients
    let logger: Logger

    var routes: [Route] {
        [
            Route(.GET, "/dashboard", name: "dashboard", handler: list),
            Route(.GET, "/dashboard/", name: "dashboard", handler: list),
            Route(.GET, "/dashboard/events/{id}", name: "dashboard_event", handler: event),
            Route(.GET, "/dashboard/events/{id}/live", name: "dashboard_live", handler: live),
            Route(.POST, "/dashboard/events/{id}/sales", name: "dashboard_sale", handler: sale),
            Route(.POST, "/dashboard/events/{id}/reconcile", name: "dashboard_reconcile", handler: reconcile),
            Route(.POST, "/dashboard/events/{id}/rebalance", name: "dashboard_rebalance", handler: rebalance),
            Route(.POST, "/dashboard/events/{id}/close", name: "dashboard_close", handler: close),
            Route(.POST, "/dashboard/failsafe", name: "dashboard_failsafe", handler: failsafe),
            Route(.GET, "/dashboard/assets/{name}", name: "dashboard_asset", handler: asset),
        ]
    }

    // MARK: - Pages

    private func list(_ request: ServerRequest) async -> ServerResponse {
        let session = Session(request)
        do {
            let events = try await source.events()
            let page = DashboardPages.eventsList(events, failsafe: await source.failsafe(), form: session.form)
            return session.page(.ok, page)
        } catch {
            logger.warning("dashboard: the events could not be read", metadata: ["ERROR": "\(error)"])
            return session.page(
                .serviceUnavailable, DashboardPages.outcome("Unavailable", "The events could not be read: \(error)", success: false, back: DashboardPages.root))
        }
    }

    private func event(_ request: ServerRequest) async -> ServerResponse {
        let session = Session(request)
        guard let id = try? EventID(request.parameter ?? "") else { return Self.badEventID(session) }
        do {
            return session.page(
                .ok,
                DashboardPages.eventPage(
                    try await source.board(id), form: session.form, rebalance: source.rebalance != nil,
                    close: source.close != nil))
        } catch {
            return session.page(failure(error, id), DashboardPages.outcome("Unavailable", message(error, id), success: false, back: DashboardPages.root))
        }
    }

    private func live(_ request: ServerRequest) async -> ServerResponse {
        guard let id = try? EventID(request.parameter ?? "") else {
            return .error(.badRequest, "bad_event_id", "no such event id")
        }
        var headers = HTTPHeaders()
        headers.add(name: "cache-control", value: "no-store")
        headers.add(name: "x-accel-buffering", value: "no")  // nginx: pass each event on at once
        do {
            _ = try await snapshot(id)
        } catch {
            return .error(failure(error, id), failure(error, id) == .notFound ? "event_not_found" : "unavailable", message(error, id))
        }
        guard request.head.method == .GET else {
            return .text(.ok, [], contentType: "text/event-stream")
        }
        guard clients.enter() else {
            return .unavailable("too_many_live_clients", "at most \(clients.limit) live dashboard clients", retryAfterSeconds: 5)
        }
        let source = self.source
        let feed = LiveFeed(
            board: { try await source.board(id) }, interval: configuration.pollInterval,
            heartbeat: configuration.heartbeatInterval)
        let clients = self.clients
        return .streaming(.ok, contentType: "text/event-stream", headers: headers, feed.stream { clients.leave() })
    }

    private func asset(_ request: ServerRequest) async -> ServerResponse {
        guard let asset = DashboardAssets.named(request.parameter ?? "") else {
            return .error(.notFound, "not_found", "no such asset")
        }
        var response = ServerResponse.text(.ok, Array(asset.body.utf8), contentType: asset.contentType)
        response.headers.add(name: "cache-control", value: "no-cache")
        response.headers.add(name: "x-content-type-options", value: "nosniff")
        return response
    }

    // MARK: - Actions

    private func sale(_ request: ServerRequest) async -> ServerResponse {
        await eventAction(
            request, action: "box-office sale", refused: "Not sold",
            decode: { DashboardAction.sale($0, newSaleID: BoxOfficeSale.newSaleID) }
        ) { id, back, action, session in
            guard case .sell(let sale) = action.kind else { return session.page(.badRequest, HTML()) }
            guard action.confirmed else {
                do {
                    let event = try await snapshot(id)
                    return session.page(.ok, DashboardPages.confirmation(action, event: event, form: session.form))
                } catch {
                    return session.page(failure(error, id), DashboardPages.outcome("Not sold", message(error, id), success: false, back: back))
                }
            }
            guard let sell else {
                return session.page(.serviceUnavailable, DashboardPages.outcome("Not sold", "This server does not sell at the box office.", success: false, back: back))
            }
            var fields: Logger.Metadata = [
                "EVENT_ID": "\(id.rawValue)", "OPERATOR": "\(sale.approvedBy)", "QUANTITY": "\(sale.quantity)",
                "SALE_ID": "\(sale.saleID)", "SOURCE": "dashboard",
            ]
            let result: BoxOfficeResult
            do {
                result = try await sell(id, sale)
            } catch {
                fields["ERROR"] = "\(error)"
                logger.warning("box-office sale failed", metadata: fields)
                return session.page(failure(error, id), DashboardPages.outcome("Not sold", message(error, id), success: false, back: back))
            }
            switch result {
            case .sold(let stockAfter, let entered):
                logger.notice("box-office sale", metadata: fields)
                return session.page(
                    .ok,
                    DashboardPages.outcome(
                        "Sold", "Sold \(sale.quantity) ticket\(sale.quantity == 1 ? "" : "s") (sale \(sale.saleID)), approved by "
                            + "\(sale.approvedBy). Stock left: \(stockAfter)." + (entered ? " The event is now in red alert." : ""),
                        success: true, back: back))
            case .duplicate(let quantity):
                logger.info("box-office sale repeated", metadata: fields)
                return session.page(
                    .ok, DashboardPages.outcome("Already sold", "Sale \(sale.saleID) was already made (\(quantity) tickets); nothing changed.", success: true, back: back))
            case .refused(let available):
                fields["AVAILABLE"] = "\(available)"
                logger.notice("box-office sale refused", metadata: fields)
                return session.page(
                    .conflict, DashboardPages.outcome("Not sold", "\(sale.quantity) tickets asked, \(available) free for the box office.", success: false, back: back))
            case .failsafe:
                logger.notice("box-office sale refused: fail-safe", metadata: fields)
                return session.page(
                    .locked, DashboardPages.outcome("Not sold: fail-safe", "\(id.rawValue) is in fail-safe; no box-office sale is allowed.", success: false, back: back))
            }
        }
    }

    private func reconcile(_ request: ServerRequest) async -> ServerResponse {
        await confirmedEventAction(
            request, action: "reconciliation", refused: "Not started", decode: DashboardAction.reconcile,
            hook: source.reconcile, notOffered: "This server does not reconcile (no workers).",
            failsafe: "Recovery from fail-safe reconciles by itself."
        ) { start, id, back, action, session in
            let fields: Logger.Metadata = ["EVENT_ID": "\(id.rawValue)", "OPERATOR": "\(action.operatorName)", "SOURCE": "dashboard"]
            switch start(id, action.operatorName) {
            case .started:
                logger.notice("reconciliation started", metadata: fields)
                return session.page(.accepted, DashboardPages.outcome("Reconciliation started", "The report appears on the event's page when it is done.", success: true, back: back))
            case .alreadyRunning:
                return session.page(.conflict, DashboardPages.outcome("Already running", "A reconciliation of \(id.rawValue) is running.", success: false, back: back))
            case .unavailable:
                return session.page(.serviceUnavailable, DashboardPages.outcome("Not started", "The daemon is shutting down.", success: false, back: back))
            }
        }
    }

    private func rebalance(_ request: ServerRequest) async -> ServerResponse {
        await confirmedEventAction(
            request, action: "rebalancing pass", refused: "Not requested", decode: DashboardAction.rebalance,
            hook: source.rebalance, notOffered: "This server runs no rebalancer (no workers).",
            failsafe: "No rebalancing pass runs in fail-safe; recovery publishes every allocation again."
        ) { ask, id, back, action, session in
            let outcome = await ask(id, action.operatorName)
            let fields: Logger.Metadata = [
                "EVENT_ID": "\(id.rawValue)", "OPERATOR": "\(action.operatorName)", "SOURCE": "dashboard",
                "OUTCOME": "\(outcome.rawValue)",
            ]
            switch outcome {
            case .requested, .alreadyPending:
                logger.notice("rebalancing pass requested", metadata: fields)
                let note = outcome == .requested ? "" : " (one was already waiting: this request joins it)"
                return session.page(
                    .accepted,
                    DashboardPages.outcome(
                        "Rebalancing pass requested",
                        "A rebalancing pass of \(id.rawValue) was requested\(note); it runs within a second or so, and "
                            + "what it changes appears under the capacity changes.", success: true, back: back))
            case .unknownEvent:
                logger.notice("rebalancing pass refused", metadata: fields)
                return session.page(.conflict, DashboardPages.outcome("Not requested", "The rebalancer does not look after \(id.rawValue): it is listed on no platform.", success: false, back: back))
            case .failsafe:
                logger.notice("rebalancing pass refused", metadata: fields)
                return session.page(.locked, DashboardPages.outcome("Not requested: fail-safe", "No rebalancing pass runs in fail-safe.", success: false, back: back))
            }
        }
    }

    /// "End sales…": the event's mode becomes `closed` (`EventDesk.close`, as `traffic-police event
    /// close`). Allowed in red alert and in fail-safe too: closing is always safe (it only takes the
    /// platforms' unsold capacity away, and recovery rebuilds the event closed from the ledger). An
    /// event already closed is answered "Already ended" instead of a confirmation page.
    private func close(_ request: ServerRequest) async -> ServerResponse {
        await confirmedEventAction(
            request, action: "end of sales", refused: "Not ended", decode: DashboardAction.close,
            hook: source.close, notOffered: "This server cannot end sales.", failsafe: nil,
            nothingToDo: { $0.mode == .closed ? Self.alreadyEnded($0.id) : nil }
        ) { close, id, back, action, session in
            guard case .close(let reason) = action.kind else { return session.page(.badRequest, HTML()) }
            var fields: Logger.Metadata = [
                "EVENT_ID": "\(id.rawValue)", "OPERATOR": "\(action.operatorName)", "REASON": "\(reason ?? "")",
                "SOURCE": "dashboard",
            ]
            let result: EventDesk.CloseResult
            do {
                result = try await close(id, action.operatorName, reason)
            } catch {
                fields["ERROR"] = "\(error)"
                logger.warning("sales not ended", metadata: fields)
                return session.page(failure(error, id), DashboardPages.outcome("Not ended", message(error, id), success: false, back: back))
            }
            switch result {
            case .closed:
                logger.notice("sales ended", metadata: fields)
                return session.page(
                    .ok,
                    DashboardPages.outcome(
                        "Sales ended",
                        "The sales of \(id.rawValue) are ended, by \(action.operatorName): every platform closes at what it "
                            + "has sold within a second or two. The box office can still sell what is left, with approval.",
                        success: true, back: back))
            case .alreadyClosed:
                logger.info("sales already ended", metadata: fields)
                let answer = Self.alreadyEnded(id.rawValue)
                return session.page(.ok, DashboardPages.outcome(answer.title, answer.message, success: true, back: back))
            }
        }
    }

    private static func alreadyEnded(_ id: String) -> (title: String, message: String) {
        ("Already ended", "The sales of \(id) were already ended; nothing changed.")
    }

    private func failsafe(_ request: ServerRequest) async -> ServerResponse {
        let back = DashboardPages.root
        return await guarded(
            request, action: "fail-safe switch", event: nil, refused: "Not changed", back: back,
            decode: DashboardAction.failsafe
        ) { action, session in
            guard case .failsafe(let on, let reason) = action.kind else { return session.page(.badRequest, HTML()) }
            guard action.confirmed else {
                return session.page(.ok, DashboardPages.confirmation(action, event: nil, form: session.form))
            }
            guard let set = source.setFailsafeSwitch else {
                return session.page(.serviceUnavailable, DashboardPages.outcome("Not changed", "This server cannot set the switch.", success: false, back: back))
            }
            let fields: Logger.Metadata = [
                "OPERATOR": "\(action.operatorName)", "FAILSAFE": "\(on ? "on" : "off")", "REASON": "\(reason ?? "")",
                "SOURCE": "dashboard",
            ]
            do {
                _ = try await set(on, action.operatorName, reason)
            } catch {
                logger.warning("fail-safe switch not set", metadata: fields.merging(["ERROR": "\(error)"]) { $1 })
                return session.page(failure(error, nil), DashboardPages.outcome("Not changed", message(error, nil), success: false, back: back))
            }
            logger.notice("fail-safe switch set", metadata: fields)
            return session.page(
                .ok,
                DashboardPages.outcome(
                    on ? "Fail-safe on" : "Fail-safe off",
                    on ? "Every daemon enters fail-safe within a second or two." : "Sales reopen once every daemon has recovered.",
                    success: true, back: back))
        }
    }

    /// An action on the event in the path: a bad id is 400, then as ``guarded(_:action:event:refused:back:decode:_:)``;
    /// `body` gets the id and the event page's path.
    private func eventAction(
        _ request: ServerRequest, action: String, refused: String,
        decode: (FormFields) -> Result<DashboardAction, DashboardFormError>,
        _ body: (EventID, String, DashboardAction, Session) async -> ServerResponse
    ) async -> ServerResponse {
        guard let id = try? EventID(request.parameter ?? "") else { return Self.badEventID(Session(request)) }
        let back = DashboardPages.eventPath(id.rawValue)
        return await guarded(request, action: action, event: id, refused: refused, back: back, decode: decode) {
            await body(id, back, $0, $1)
        }
    }

    /// An event action the source may not offer: 404 for an unknown event, 503 without the hook
    /// (`notOffered`), the confirmation page (or, when `nothingToDo` has an answer for the event, that
    /// answer: 200, title and message), 423 in fail-safe (`failsafe`, the page's message; nil: allowed
    /// in fail-safe), then `perform` with the hook.
    private func confirmedEventAction<Hook>(
        _ request: ServerRequest, action: String, refused: String,
        decode: (FormFields) -> Result<DashboardAction, DashboardFormError>, hook: Hook?, notOffered: String,
        failsafe failsafeMessage: String?,
        nothingToDo: (EventSnapshot) -> (title: String, message: String)? = { _ in nil },
        _ perform: (Hook, EventID, String, DashboardAction, Session) async -> ServerResponse
    ) async -> ServerResponse {
        await eventAction(request, action: action, refused: refused, decode: decode) { id, back, action, session in
            let event: EventSnapshot
            do {
                event = try await snapshot(id)
            } catch {
                return session.page(failure(error, id), DashboardPages.outcome(refused, message(error, id), success: false, back: back))
            }
            guard let hook else {
                return session.page(.serviceUnavailable, DashboardPages.outcome(refused, notOffered, success: false, back: back))
            }
            guard action.confirmed else {
                if let answer = nothingToDo(event) {
                    return session.page(.ok, DashboardPages.outcome(answer.title, answer.message, success: true, back: back))
                }
                return session.page(.ok, DashboardPages.confirmation(action, event: event, form: session.form))
            }
            if let failsafeMessage, DashboardBanner.failsafe(await source.failsafe(), eventMode: event.mode) != nil {
                return session.page(.locked, DashboardPages.outcome("\(refused): fail-safe", failsafeMessage, success: false, back: back))
            }
            return await perform(hook, id, back, action, session)
        }
    }

    private static func badEventID(_ session: Session) -> ServerResponse {
        session.page(.badRequest, DashboardPages.outcome("Bad event id", "No such event id.", success: false, back: DashboardPages.root))
    }

    /// Checks the form's content type and the CSRF rule (a refusal is logged), decodes the action
    /// (400 titled `refused` when the form is invalid), then runs `body`.
    private func guarded(
        _ request: ServerRequest, action: String, event: EventID?, refused: String, back: String,
        decode: (FormFields) -> Result<DashboardAction, DashboardFormError>,
        _ body: (DashboardAction, Session) async -> ServerResponse
    ) async -> ServerResponse {
        let session = Session(request)
        let mediaType = request.header("content-type")?.split(separator: ";").first?.trimmingASCIISpaces.lowercased()
        guard mediaType == "application/x-www-form-urlencoded" else {
            return session.page(.unsupportedMediaType, DashboardPages.outcome("Refused", "Send the dashboard's own form.", success: false, back: DashboardPages.root))
        }
        let form = FormFields(urlEncoded: request.bodyBytes)
        let presented = CSRFGuard.Presented(
            cookieHeader: request.head.headers[canonicalForm: "cookie"].joined(separator: "; "), formToken: form[CSRFGuard.fieldName],
            origin: request.header("origin"), secFetchSite: request.header("sec-fetch-site"),
            host: request.header("x-forwarded-host") ?? request.header("host"))
        if case .refused(let reason) = CSRFGuard.check(presented) {
            logger.warning(
                "dashboard request refused (CSRF)",
                metadata: [
                    "ACTION": "\(action)", "EVENT_ID": "\(event?.rawValue ?? "")", "OPERATOR": "\(form["operator"] ?? "")",
                    "REASON": "\(reason)",
                ])
            return session.page(.forbidden, DashboardPages.outcome("Refused", reason, success: false, back: DashboardPages.root))
        }
        switch decode(form) {
        case .failure(let error):
            return session.page(.badRequest, DashboardPages.outcome(refused, error.message, success: false, back: back))
        case .success(let decoded):
            return await body(decoded, session)
        }
    }

    private func failure(_ error: any Error, _ id: EventID?) -> HTTPResponseStatus {
        if case LedgerError.eventNotFound = error { return .notFound }
        if error is DomainError { return .badRequest }
        return .serviceUnavailable
    }

    private func message(_ error: any Error, _ id: EventID?) -> String {
        if case LedgerError.eventNotFound = error { return "No event \(id?.rawValue ?? "")." }
        return "It could not be done: \(error)"
    }
}

/// The browser's dashboard session: its CSRF token (from the cookie, or a new one handed out with
/// the page) and the operator's name the proxy authenticated, if it passes one on.
struct Session: Sendable {
    let token: String
    let isNew: Bool
    let operatorHint: String?
    /// The browser came over HTTPS (the proxy's `X-Forwarded-Proto`): the cookie is `Secure`.
    let secure: Bool

    init(_ request: ServerRequest) {
        secure = request.header("x-forwarded-proto")?.lowercased() == "https"
        let existing = CSRFGuard.token(inCookieHeader: request.head.headers[canonicalForm: "cookie"].joined(separator: "; "))
        token = existing ?? CSRFGuard.newToken()
        isNew = existing == nil
        operatorHint = request.header("x-remote-user").flatMap { $0.isEmpty ? nil : $0 }
    }

    var form: DashboardPages.FormContext { .init(csrfToken: token, operatorHint: operatorHint) }

    /// An HTML page with the dashboard's headers (and the cookie, when the session is new).
    func page(_ status: HTTPResponseStatus, _ html: HTML) -> ServerResponse {
        var response = ServerResponse.text(status, Array(html.markup.utf8), contentType: "text/html; charset=utf-8")
        response.headers.add(name: "cache-control", value: "no-store")
        response.headers.add(name: "x-content-type-options", value: "nosniff")
        response.headers.add(name: "referrer-policy", value: "same-origin")
        response.headers.add(name: "x-frame-options", value: "DENY")
        response.headers.add(
            name: "content-security-policy",
            value: "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
                + "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        if isNew { response.headers.add(name: "set-cookie", value: CSRFGuard.setCookie(token, secure: secure)) }
        return response
    }
}

/// How the dashboard serves live updates.
public struct DashboardConfiguration: Sendable, Hashable {
    /// How often a live client's event is read (an update is sent only when it changed). Default 1 s.
    public var pollInterval: Duration = .seconds(1)
    /// A comment is sent after this long without an update. Default 15 s.
    public var heartbeatInterval: Duration = .seconds(15)
    /// Live clients served at once; one more is answered 503. Default 32.
    public var maxLiveClients = 32

    public init() {}
}
