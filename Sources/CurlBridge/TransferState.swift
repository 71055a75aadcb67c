import CCurl

/// Per-transfer state the libcurl callbacks reach through their `void *` userdata.
/// Lives on the worker thread that runs the transfer; never shared across threads.
final class TransferState {
    let maxResponseBytes: Int
    let cancelled: AbortFlag
    let shuttingDown: AbortFlag
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var overflowed = false

    init(maxResponseBytes: Int, cancelled: AbortFlag, shuttingDown: AbortFlag) {
        self.maxResponseBytes = maxResponseBytes
        self.cancelled = cancelled
        self.shuttingDown = shuttingDown
    }

    /// Appends body bytes; false when that would exceed the limit.
    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= maxResponseBytes else {
            overflowed = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Consumes one raw header line as libcurl delivers it (status lines reset the list,
    /// so only the final response's headers remain).
    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var line = String(decoding: bytes, as: UTF8.self)
        // "\r\n" is a single Character, so test for newlines rather than comparing with "\r".
        while let last = line.last, last.isNewline { line.removeLast() }
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        if line.isEmpty { return }
        if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
            // Obsolete line folding: continue the previous value.
            headers[headers.count - 1].value += " " + trimmed(Substring(line))
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = trimmed(line[..<colon])
        let value = trimmed(line[line.index(after: colon)...])
        headers.append((name: name, value: value))
    }

    private func trimmed(_ text: Substring) -> String {
        var text = text
        while let c = text.first, c == " " || c == "\t" { text.removeFirst() }
        while let c = text.last, c == " " || c == "\t" { text.removeLast() }
        return String(text)
    }
}

/// CURLOPT_WRITEFUNCTION: collects the body; returning less than given aborts (CURLE_WRITE_ERROR).
func curlWriteCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard length > 0, let data else { return length }
    return state.appendBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

/// CURLOPT_HEADERFUNCTION: collects response header lines.
func curlHeaderCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard length > 0, let data else { return length }
    state.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

/// CURLOPT_XFERINFOFUNCTION: non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK)
/// once the client shuts down or the calling task is cancelled.
func curlProgressCallback(
    _ userdata: UnsafeMutableRawPointer?, _ dlTotal: curl_off_t, _ dlNow: curl_off_t,
    _ ulTotal: curl_off_t, _ ulNow: curl_off_t
) -> Int32 {
    guard let userdata else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(userdata).takeUnretainedValue()
    return state.cancelled.isSet || state.shuttingDown.isSet ? 1 : 0
}
