import CCurl
import CCurlShim

/// `curl_global_init`, run once on first use (Swift globals initialise lazily and thread-safely).
let curlGlobalInitResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// One blocking transfer with its own easy handle; runs entirely on the calling (worker) thread.
enum CurlTransfer {
    /// Performs `request`; throws `CurlError`, or `CancellationError` when `cancelled` is raised.
    static func perform(
        _ request: HTTPRequest, maxResponseBytes: Int, cancelled: AbortFlag, shuttingDown: AbortFlag
    ) throws -> HTTPResponse {
        guard curlGlobalInitResult == CURLE_OK else {
            throw CurlError(
                kind: .other, code: code(curlGlobalInitResult),
                message: "curl_global_init failed: \(strerror(curlGlobalInitResult))")
        }
        try validate(request)
        if shuttingDown.isSet { throw CurlError.shutdown }
        if cancelled.isSet { throw CancellationError() }

        guard let handle = curl_easy_init() else {
            throw CurlError(kind: .other, code: code(CURLE_FAILED_INIT), message: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }

        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }

        let state = TransferState(
            maxResponseBytes: maxResponseBytes, cancelled: cancelled, shuttingDown: shuttingDown)
        let userdata = Unmanaged.passUnretained(state).toOpaque()

        return try withExtendedLifetime(state) {
            try set(handle, CURLOPT_NOSIGNAL, 1)
            try set(handle, CURLOPT_ERRORBUFFER, pointer: errorBuffer)
            try set(handle, CURLOPT_URL, string: request.url)
            try set(handle, CURLOPT_PROTOCOLS_STR, string: "http,https")
            try set(handle, CURLOPT_REDIR_PROTOCOLS_STR, string: "http,https")
            try check(tp_curl_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback), "WRITEFUNCTION")
            try set(handle, CURLOPT_WRITEDATA, pointer: userdata)
            try check(tp_curl_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback), "HEADERFUNCTION")
            try set(handle, CURLOPT_HEADERDATA, pointer: userdata)
            try check(
                tp_curl_setopt_xferinfo_callback(handle, CURLOPT_XFERINFOFUNCTION, curlProgressCallback),
                "XFERINFOFUNCTION")
            try set(handle, CURLOPT_XFERINFODATA, pointer: userdata)
            try set(handle, CURLOPT_NOPROGRESS, 0)
            try set(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout))
            try set(handle, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout))
            try set(handle, CURLOPT_SSL_VERIFYPEER, request.verifyTLS ? 1 : 0)
            try set(handle, CURLOPT_SSL_VERIFYHOST, request.verifyTLS ? 2 : 0)
            try check(
                tp_curl_setopt_offset(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxResponseBytes)),
                "MAXFILESIZE_LARGE")

            for line in headerLines(for: request) {
                guard let appended = curl_slist_append(headerList, line) else {
                    throw CurlError(kind: .other, code: code(CURLE_OUT_OF_MEMORY), message: "curl_slist_append failed")
                }
                headerList = appended
            }
            try check(tp_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")
            try setMethodAndBody(handle, request)

            let result = curl_easy_perform(handle)
            guard result == CURLE_OK else {
                throw failure(result, state: state, errorBuffer: errorBuffer, maxResponseBytes: maxResponseBytes)
            }
            var status = 0
            try check(tp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), "RESPONSE_CODE")
            return HTTPResponse(status: status, headers: state.headers, body: state.body)
        }
    }

    // MARK: Request set-up

    private static func setMethodAndBody(_ handle: UnsafeMutableRawPointer, _ request: HTTPRequest) throws {
        switch request.method {
        case "GET" where request.body == nil:
            try set(handle, CURLOPT_HTTPGET, 1)
            return
        case "HEAD":
            guard request.body == nil else {
                throw CurlError(kind: .invalidRequest, code: 0, message: "a HEAD request cannot have a body")
            }
            try set(handle, CURLOPT_NOBODY, 1)
            return
        case "POST":
            break
        default:
            try set(handle, CURLOPT_CUSTOMREQUEST, string: request.method)
        }
        guard let body = request.method == "POST" ? (request.body ?? []) : request.body else { return }
        try check(tp_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "POSTFIELDSIZE")
        if body.isEmpty {
            try set(handle, CURLOPT_COPYPOSTFIELDS, string: "")
        } else {
            try body.withUnsafeBytes { bytes in
                try set(handle, CURLOPT_COPYPOSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            }
        }
    }

    /// The CURLOPT_HTTPHEADER lines: the caller's headers, plus blanks that stop libcurl adding
    /// `Expect: 100-continue` and a form Content-Type the caller did not ask for.
    private static func headerLines(for request: HTTPRequest) -> [String] {
        var lines = request.headers.map { header in
            // "Name;" is libcurl's syntax for a header with an empty value ("Name:" would remove it).
            header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
        }
        let names = Set(request.headers.map { $0.name.lowercased() })
        if !names.contains("expect") { lines.append("Expect:") }
        if request.body != nil || request.method == "POST", !names.contains("content-type") {
            lines.append("Content-Type:")
        }
        return lines
    }

    private static func validate(_ request: HTTPRequest) throws {
        func invalid(_ message: String) -> CurlError { CurlError(kind: .invalidRequest, code: 0, message: message) }
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(isTokenByte) else {
            throw invalid("invalid HTTP method \(String(reflecting: request.method))")
        }
        guard !request.url.utf8.contains(0) else { throw invalid("URL contains a NUL byte") }
        for header in request.headers {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy(isTokenByte) else {
                throw invalid("invalid header name \(String(reflecting: header.name))")
            }
            guard !header.value.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 }) else {
                throw invalid("header \(header.name) has a value with CR, LF or NUL")
            }
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// Milliseconds for a libcurl timeout, at least 1 (0 would mean "no timeout" to libcurl).
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 1 }
        let (wholeMillis, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return Int.max }
        let fraction = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return max(1, Int(clamping: wholeMillis) &+ Int(fraction))
    }

    // MARK: Errors

    private static func failure(
        _ result: CURLcode, state: TransferState, errorBuffer: UnsafeMutablePointer<CChar>, maxResponseBytes: Int
    ) -> any Error {
        if result == CURLE_ABORTED_BY_CALLBACK {
            if state.shuttingDown.isSet { return CurlError.shutdown }
            if state.cancelled.isSet { return CancellationError() }
        }
        if (result == CURLE_WRITE_ERROR && state.overflowed) || result == CURLE_FILESIZE_EXCEEDED {
            return CurlError(
                kind: .other, code: code(result),
                message: "response body exceeds maxResponseBytes (\(maxResponseBytes) bytes)")
        }
        var message = strerror(result)
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty { message += ": " + detail }
        return CurlError(kind: CurlError.kind(for: result), code: code(result), message: message)
    }

    private static func strerror(_ result: CURLcode) -> String {
        curl_easy_strerror(result).map { String(cString: $0) } ?? "CURLcode \(result.rawValue)"
    }

    static func code(_ result: CURLcode) -> Int32 { Int32(truncatingIfNeeded: result.rawValue) }

    private static func check(_ result: CURLcode, _ what: String) throws {
        guard result == CURLE_OK else {
            let kind: CurlError.Kind = result == CURLE_UNSUPPORTED_PROTOCOL || result == CURLE_URL_MALFORMAT
                ? .invalidRequest : .other
            throw CurlError(kind: kind, code: code(result), message: "setting \(what): \(strerror(result))")
        }
    }

    private static func set(_ handle: UnsafeMutableRawPointer, _ option: CURLoption, _ value: Int) throws {
        try check(tp_curl_setopt_long(handle, option, value), "\(option)")
    }

    private static func set(_ handle: UnsafeMutableRawPointer, _ option: CURLoption, string: String) throws {
        try check(tp_curl_setopt_string(handle, option, string), "\(option)")
    }

    private static func set(
        _ handle: UnsafeMutableRawPointer, _ option: CURLoption, pointer: UnsafeMutableRawPointer?
    ) throws {
        try check(tp_curl_setopt_pointer(handle, option, pointer), "\(option)")
    }
}

extension CurlError {
    /// The error for work refused or aborted because the client shut down.
    static let shutdown = CurlError(kind: .shutdown, code: 0, message: "the CurlClient has been shut down")
}
