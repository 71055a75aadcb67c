import CurlBridge
import Testing

/// The echo route's reply, parsed.
private struct Echo {
    var method: String
    var uri: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    init?(_ response: HTTPResponse) {
        let bytes = response.body
        guard let split = (0..<max(0, bytes.count - 1)).first(where: { bytes[$0] == 10 && bytes[$0 + 1] == 10 })
        else { return nil }
        let lines = String(decoding: bytes[..<split], as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.count >= 2 else { return nil }
        method = lines[0]
        uri = lines[1]
        headers = lines.dropFirst(2).compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...].drop(while: { $0 == " " })))
        }
        body = Array(bytes[(split + 2)...])
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Runs `body` with a fresh client and shuts it down afterwards.
private func withClient<T>(
    _ configuration: CurlClient.Configuration = .init(), _ body: (CurlClient) async throws -> T
) async throws -> T {
    let client = CurlClient(configuration: configuration)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Expects `operation` to throw a `CurlError` and returns it.
private func curlError(_ operation: () async throws -> HTTPResponse) async -> CurlError? {
    do {
        let response = try await operation()
        Issue.record("expected a CurlError, got status \(response.status)")
        return nil
    } catch let error as CurlError {
        return error
    } catch {
        Issue.record("expected a CurlError, got \(error)")
        return nil
    }
}

@Suite("CurlClient against a loopback NIO server", .timeLimit(.minutes(1)))
struct CurlClientTests {
    @Test func getRoundTripsHeaders() async throws {
        try await TestHTTPServer.with { server in
            try await withClient { client in
                let request = HTTPRequest(
                    url: server.url("/echo/get?x=1"),
                    headers: [(name: "X-Trace", value: "abc 123"), (name: "Accept", value: "text/plain")])
                let response = try await client.execute(request)
                #expect(response.status == 200)
                let echo = try #require(Echo(response))
                #expect(echo.method == "GET")
                #expect(echo.uri == "/echo/get?x=1")
                #expect(echo.header("x-trace") == "abc 123")
                #expect(echo.header("Accept") == "text/plain")
                #expect(echo.header("Expect") == nil)
                #expect(echo.body.isEmpty)
            }
        }
    }

    @Test func postRoundTripsBody() async throws {
        try await TestHTTPServer.with { server in
            try await withClient { client in
                let payload = Array("{\"order\":42}\n".utf8) + [0, 255, 1]
                let request = HTTPRequest(
                    method: "POST", url: server.url("/echo/post"),
                    headers: [(name: "Content-Type", value: "application/json"), (name: "X-Empty", value: "")],
                    body: payload)
                let response = try await client.execute(request)
                let echo = try #require(Echo(response))
                #expect(echo.method == "POST")
                #expect(echo.header("content-type") == "application/json")
                #expect(echo.header("content-length") == String(payload.count))
                #expect(echo.headers.contains { $0.name.lowercased() == "x-empty" && $0.value.isEmpty })
                #expect(echo.body == payload)
            }
        }
    }

    @Test func otherMethodsAndEmptyPost() async throws {
        try await TestHTTPServer.with { server in
            try await withClient { client in
                let put = try await client.execute(
                    HTTPRequest(method: "PUT", url: server.url("/echo/put"), body: Array("data".utf8)))
                let putEcho = try #require(Echo(put))
                #expect(putEcho.method == "PUT")
                #expect(putEcho.body == Array("data".utf8))
                #expect(putEcho.header("content-type") == nil)

                let delete = try await client.execute(HTTPRequest(method: "DELETE", url: server.url("/echo/x")))
                #expect(try #require(Echo(delete)).method == "DELETE")

                let post = try await client.execute(HTTPRequest(method: "POST", url: server.url("/echo/empty")))
                let postEcho = try #require(Echo(post))
                #expect(postEcho.method == "POST")
                #expect(postEcho.header("content-length") == "0")
                #expect(postEcho.body.isEmpty)

                let head = try await client.execute(HTTPRequest(method: "HEAD", url: server.url("/status/204")))
                #expect(head.status == 204)
                #expect(head.body.isEmpty)
            }
        }
    }

    @Test(arguments: [200, 201, 301, 404, 429, 500, 503])
    func statusCodesAndResponseHeaders(status: Int) async throws {
        try await TestHTTPServer.with { server in
            try await withClient { client in
                let response = try await client.execute(HTTPRequest(url: server.url("/status/\(status)")))
                #expect(response.status == status)
                #expect(response.header("Retry-After") == "7")
                #expect(response.header("retry-after") == "7")
                #expect(response.header("RETRY-AFTER") == "7")
                #expect(response.header("x-custom-header") == "custom")
                #expect(response.headerValues("X-Custom-Header") == ["custom"])
                #expect(response.header("X-Missing") == nil)
                #expect(response.headers.allSatisfy { !$0.name.hasPrefix("HTTP/") })
                #expect(String(decoding: response.body, as: UTF8.self) == "status \(status)")
            }
        }
    }

    @Test func connectionRefused() async throws {
        let server = try await TestHTTPServer.start()
        let url = server.url("/echo")
        await server.stop()
        try await withClient { client in
            let error = await curlError { try await client.execute(HTTPRequest(url: url)) }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.code == 7)  // CURLE_COULDNT_CONNECT
        }
    }

    @Test func tlsHandshakeAgainstPlainHTTPFails() async throws {
        try await TestHTTPServer.with { server in
            try await withClient { client in
                let url = "https://127.0.0.1:\(server.port)/echo"
                let error = await curlError { try await client.execute(HTTPRequest(url: url)) }
                #expect(error?.kind == .tls)
            }
        }
    }

    @Test func totalTimeout() async throws {
        try await TestHTTPServer.with { server in
            try await withClient { client in
                var request = HTTPRequest(url: server.url("/delay/60000"))
                request.timeout = .milliseconds(300)
                let clock = ContinuousClock()
                let start = clock.now
                let error = await curlError { try await client.execute(request) }
                let elapsed = clock.now - start
                #expect(error?.kind == .timeout)
                #expect(error?.code == 28)  // CURLE_OPERATION_TIMEDOUT
                #expect(elapsed >= .milliseconds(250))
                // Well before the server's 60 s answer; loose because the machine is shared.
                #expect(elapsed < .seconds(30))
            }
        }
    }

    @Test(arguments: ["/large/5000", "/large-chunked/5000"])
    func oversizedResponseFails(path: String) async throws {
        try await TestHTTPServer.with { server in
            try await withClient(.init(threads: 1, maxResponseBytes: 4096)) { client in
                let error = await curlError { try await client.execute(HTTPRequest(url: server.url(path))) }
                #expect(error?.kind == .other)
                #expect(error?.message.contains("maxResponseBytes") == true)
                #expect(error?.message.contains("4096") == true)

                let fits = try await client.execute(HTTPRequest(url: server.url("/large/4096")))
                #expect(fits.body.count == 4096)
            }
        }
    }

    @Test func largeBodyWithinLimit() async throws {
        try await TestHTTPServer.with { server in
            try await withClient { client in
                let response = try await client.execute(HTTPRequest(url: server.url("/large-chunked/3000000")))
                #expect(response.status == 200)
                #expect(response.body.count == 3_000_000)
                #expect(response.body.allSatisfy { $0 == UInt8(ascii: "x") })
            }
        }
    }

    @Test func thirtyTwoConcurrentRequests() async throws {
        try await TestHTTPServer.with { server in
            try await withClient(.init(threads: 4)) { client in
                try await withThrowingTaskGroup(of: (Int, HTTPResponse).self) { group in
                    for index in 0..<32 {
                        group.addTask {
                            let request = HTTPRequest(
                                method: "POST", url: server.url("/echo/\(index)"),
                                headers: [(name: "X-Index", value: String(index))],
                                body: Array("request \(index)".utf8))
                            return (index, try await client.execute(request))
                        }
                    }
                    var seen = Set<Int>()
                    for try await (index, response) in group {
                        let echo = try #require(Echo(response))
                        #expect(echo.uri == "/echo/\(index)")
                        #expect(echo.header("X-Index") == String(index))
                        #expect(echo.body == Array("request \(index)".utf8))
                        seen.insert(index)
                    }
                    #expect(seen == Set(0..<32))
                }
            }
        }
    }

    @Test func invalidRequests() async throws {
        try await withClient { client in
            let badScheme = await curlError { try await client.execute(HTTPRequest(url: "ftp://127.0.0.1/")) }
            #expect(badScheme?.kind == .invalidRequest)
            let badURL = await curlError { try await client.execute(HTTPRequest(url: "http://[::1")) }
            #expect(badURL?.kind == .invalidRequest)
            let badHeader = await curlError {
                try await client.execute(
                    HTTPRequest(url: "http://127.0.0.1/", headers: [(name: "X-A", value: "1\r\nX-Injected: 1")]))
            }
            #expect(badHeader?.kind == .invalidRequest)
            let badMethod = await curlError {
                try await client.execute(HTTPRequest(method: "GE T", url: "http://127.0.0.1/"))
            }
            #expect(badMethod?.kind == .invalidRequest)
        }
    }

    @Test func shutdownAbortsInFlightAndRefusesNewRequests() async throws {
        try await TestHTTPServer.with { server in
            let client = CurlClient()
            let url = server.url("/delay/20000")
            let inFlight = Task { try await client.execute(HTTPRequest(url: url)) }
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let start = clock.now
            await client.shutdown()
            let error = await curlError { try await inFlight.value }
            #expect(error?.kind == .shutdown)
            #expect(clock.now - start < .seconds(5))

            let after = await curlError { try await client.execute(HTTPRequest(url: server.url("/echo"))) }
            #expect(after?.kind == .shutdown)
            await client.shutdown()  // idempotent
        }
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        try await TestHTTPServer.with { server in
            try await withClient { client in
                let url = server.url("/delay/20000")
                let task = Task { try await client.execute(HTTPRequest(url: url)) }
                try await Task.sleep(for: .milliseconds(300))
                let clock = ContinuousClock()
                let start = clock.now
                task.cancel()
                await #expect(throws: CancellationError.self) { try await task.value }
                #expect(clock.now - start < .seconds(5))
            }
        }
    }
}
