import CCurl

/// A failed transfer: the libcurl result code classified into a `Kind`.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// Broad failure classes callers branch on.
    public enum Kind: Sendable, Hashable {
        /// The connect or total timeout elapsed (CURLE_OPERATION_TIMEDOUT).
        case timeout
        /// Name resolution, connect, or the connection broke (send/receive error, empty reply).
        case connectionFailed
        /// TLS handshake or certificate verification failed.
        case tls
        /// The request was rejected before sending (bad URL, protocol, method or header).
        case invalidRequest
        /// Anything else, including a response larger than `maxResponseBytes`.
        case other
        /// The client was shut down before or during the transfer.
        case shutdown
    }

    /// The failure class.
    public var kind: Kind
    /// The CURLcode (CURLE_OK for errors raised by the bridge itself).
    public var code: Int32
    /// curl_easy_strerror text plus the CURLOPT_ERRORBUFFER detail, or the bridge's explanation.
    public var message: String

    /// Creates an error.
    public init(kind: Kind, code: Int32, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String {
        "CurlError(\(kind), code \(code)): \(message)"
    }

    /// Classifies a libcurl result code.
    static func kind(for code: CURLcode) -> Kind {
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
            CURLE_INTERFACE_FAILED, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            return .connectionFailed
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ENGINE_NOTFOUND,
            CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_USE_SSL_FAILED,
            CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_SHUTDOWN_FAILED,
            CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT:
            return .tls
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_BAD_FUNCTION_ARGUMENT:
            return .invalidRequest
        default:
            return .other
        }
    }
}
