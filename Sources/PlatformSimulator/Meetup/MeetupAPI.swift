/// Meetup's `gql-ext` endpoint (platforms.md section 3): parse, validate, check the point budget,
/// execute, charge. Authentication is checked before (`SimulatorState`).
struct MeetupAPI {
    var maxPageSize: Int
    var costs: MeetupCostModel

    struct Outcome {
        var response: SimResponse
        /// Points charged (0 for refused or invalid requests).
        var points = 0
        var rateLimited = false
        var changes: [CapacityChange] = []
    }

    static func error(_ status: Int, _ message: String, code: String, line: Int? = nil, column: Int? = nil) -> SimResponse {
        var error: [String: JSON] = ["message": .string(message), "extensions": ["code": .string(code)]]
        if let line, let column { error["locations"] = [["line": .int(line), "column": .int(column)]] }
        return .json(status, ["errors": [.object(error)]])
    }

    func handle(
        _ request: SimRequest, token: String, store: inout MeetupStore, limiter: inout RollingPointsLimiter, now: Double
    ) -> Outcome {
        guard request.method == "POST" else {
            return Outcome(response: Self.error(405, "Use POST with a JSON body {\"query\", \"variables\"}.", code: "BAD_REQUEST"))
        }
        guard let body = request.json, let query = body["query"]?.stringValue else {
            return Outcome(
                response: Self.error(
                    400, "POST body must be JSON with a \"query\" string.", code: "BAD_REQUEST"))
        }
        let variables = body["variables"]?.objectValue ?? [:]
        let document: GraphQLDocument
        do {
            document = try GraphQLDocument.parse(query, operationName: body["operationName"]?.stringValue)
        } catch let error as GraphQLDocument.SyntaxError {
            return Outcome(
                response: Self.error(400, error.message, code: "GRAPHQL_PARSE_FAILED", line: error.line, column: error.column))
        } catch {
            return Outcome(response: Self.error(400, "\(error)", code: "GRAPHQL_PARSE_FAILED"))
        }
        if let invalid = MeetupSchema.validate(document) {
            return Outcome(
                response: Self.error(
                    400, invalid.message, code: "GRAPHQL_VALIDATION_FAILED", line: invalid.line, column: invalid.column))
        }
        if let refusal = limiter.check(token, now: now) {
            let root = document.selections.first
            let limited: JSON = [
                "errors": [
                    [
                        "message": "Too many requests, please try again shortly.",
                        "locations": [["line": .int(root?.line ?? 1), "column": .int(root?.column ?? 1)]],
                        "path": [.string(root?.responseKey ?? "event")],
                        "extensions": [
                            "code": "RATE_LIMITED", "consumedPoints": .int(refusal.consumedPoints),
                            "resetAt": .string(Timestamps.milliseconds(refusal.resetAt)),
                        ],
                    ]
                ],
                "data": .null,
            ]
            return Outcome(response: .json(200, limited), rateLimited: true)
        }
        var executor = MeetupExecutor(variables: variables, maxPageSize: maxPageSize, now: now)
        let result = executor.run(document, store: &store)
        let points = costs.cost(nodes: result.nodes, mutations: result.mutations)
        limiter.charge(token, points: points, now: now)
        var answer: [String: JSON] = ["data": .object(result.data)]
        if !result.errors.isEmpty { answer["errors"] = .array(result.errors) }
        return Outcome(response: .json(200, .object(answer)), points: points, changes: result.changes)
    }
}
