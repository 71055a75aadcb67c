/// Where and how to connect to Redis.
public struct RedisConfiguration: Sendable, Hashable {
    /// The TCP host (ignored when `unixSocketPath` is set).
    public var host: String
    /// The TCP port (ignored when `unixSocketPath` is set).
    public var port: Int
    /// The path of a Unix domain socket; when set, `host` and `port` are not used.
    public var unixSocketPath: String?
    /// The ACL user name; `AUTH username password` is sent when both are set.
    public var username: String?
    /// The password; `AUTH password` (or `AUTH username password`) is sent on connect when set.
    public var password: String?
    /// The database number; `SELECT` is sent on connect when it is not 0.
    public var database: Int
    /// How long a connect may take.
    public var connectTimeout: Duration
    /// How long the server may take to answer (each socket read or write).
    public var commandTimeout: Duration
    /// The number of connections, each with its own thread. Must be at least 1.
    public var poolSize: Int
    /// How many commands may wait on one connection before the next connection is used. Requests
    /// are packed onto the first connections (each batch costs one thread wake-up and one round
    /// trip however many commands it carries) and spread only under load. 0 spreads them evenly
    /// (always the least busy connection). Default 4: as fast as 16 for the intake, and it keeps
    /// independent callers (8 tasks, one command each) spread over the connections.
    public var packingLimit: Int

    /// A configuration for `127.0.0.1:6379`, database 0, 2 s timeouts and 4 connections.
    public init() {
        self.host = "127.0.0.1"
        self.port = 6379
        self.unixSocketPath = nil
        self.username = nil
        self.password = nil
        self.database = 0
        self.connectTimeout = .seconds(2)
        self.commandTimeout = .seconds(2)
        self.poolSize = 4
        self.packingLimit = 4
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]` or `unix:///path/to/sock[?db=N]`.
    ///
    /// Anything else (`rediss://`, garbage, a bad port, a bad database) throws
    /// `RedisError(kind: .invalidConfiguration)` with a message that says what is wrong.
    public init(url: String) throws {
        self.init()
        var parser = URLParser(url: url)
        try parser.parse(into: &self)
    }

    /// Throws `RedisError(kind: .invalidConfiguration)` if a value is out of range.
    public func validate() throws {
        if let error = self.validationError {
            throw error
        }
    }

    /// The first problem with this configuration, if any.
    var validationError: RedisError? {
        if self.poolSize < 1 {
            return .invalidConfiguration("poolSize must be at least 1 (got \(self.poolSize))")
        }
        if self.packingLimit < 0 {
            return .invalidConfiguration("packingLimit must not be negative (got \(self.packingLimit))")
        }
        if let path = self.unixSocketPath {
            if path.isEmpty {
                return .invalidConfiguration("unixSocketPath must not be empty")
            }
        } else {
            if self.host.isEmpty {
                return .invalidConfiguration("host must not be empty")
            }
            if !(1...65535).contains(self.port) {
                return .invalidConfiguration("port must be in 1...65535 (got \(self.port))")
            }
        }
        if self.database < 0 || self.database > Int(Int32.max) {
            return .invalidConfiguration("database must be a non-negative number (got \(self.database))")
        }
        if self.connectTimeout <= .zero {
            return .invalidConfiguration("connectTimeout must be positive (got \(self.connectTimeout))")
        }
        if self.commandTimeout <= .zero {
            return .invalidConfiguration("commandTimeout must be positive (got \(self.commandTimeout))")
        }
        return nil
    }

    /// A description of the endpoint for error messages (never includes the password).
    var endpointDescription: String {
        if let path = self.unixSocketPath {
            return "unix:\(path)"
        }
        if self.host.contains(":") {
            return "[\(self.host)]:\(self.port)"
        }
        return "\(self.host):\(self.port)"
    }
}

/// Parses Redis URLs without Foundation.
private struct URLParser {
    let url: String

    init(url: String) {
        self.url = url
    }

    /// The URL with any password replaced, for error messages.
    private var redactedURL: String {
        guard let schemeEnd = self.url.firstRange(of: "://") else {
            return self.url
        }
        let rest = self.url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"),
            let colon = authority[..<at].firstIndex(of: ":")
        else {
            return self.url
        }
        return String(self.url[..<rest.startIndex]) + authority[...colon] + "***" + self.url[at...]
    }

    private func invalid(_ reason: String) -> RedisError {
        .invalidConfiguration("invalid Redis URL '\(self.redactedURL)': \(reason)")
    }

    mutating func parse(into configuration: inout RedisConfiguration) throws {
        guard let schemeEnd = self.url.firstRange(of: "://") else {
            throw self.invalid("expected redis://host[:port][/db] or unix:///path/to/socket[?db=N]")
        }
        let scheme = self.url[..<schemeEnd.lowerBound].lowercased()
        let rest = self.url[schemeEnd.upperBound...]
        if rest.contains("#") {
            throw self.invalid("fragments ('#') are not allowed")
        }
        switch scheme {
        case "redis":
            try self.parseTCP(rest, into: &configuration)
        case "unix":
            try self.parseUnix(rest, into: &configuration)
        case "rediss":
            throw self.invalid("TLS (rediss://) is not supported by this client")
        default:
            throw self.invalid("unsupported scheme '\(scheme)' (expected redis:// or unix://)")
        }
    }

    private func parseTCP(_ rest: Substring, into configuration: inout RedisConfiguration) throws {
        if rest.contains("?") {
            throw self.invalid(
                "query parameters are not supported for redis:// URLs (put the database in the path: /N)"
            )
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]

        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else {
                throw self.invalid("credentials must be ':password@' or 'user:password@'")
            }
            let user = try self.percentDecoded(userInfo[..<colon], what: "user name")
            let password = try self.percentDecoded(userInfo[userInfo.index(after: colon)...], what: "password")
            if password.isEmpty {
                throw self.invalid("the password is empty")
            }
            configuration.username = user.isEmpty ? nil : user
            configuration.password = password
        }

        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw self.invalid("unterminated IPv6 address (missing ']')")
            }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let afterClose = authority[authority.index(after: close)...]
            if afterClose.isEmpty {
                portPart = nil
            } else if afterClose.hasPrefix(":") {
                portPart = afterClose.dropFirst()
            } else {
                throw self.invalid("unexpected '\(afterClose)' after the IPv6 address")
            }
        } else if let colon = authority.firstIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
            if portPart?.contains(":") == true {
                throw self.invalid("IPv6 addresses must be written in brackets, e.g. redis://[::1]:6379")
            }
        } else {
            hostPart = authority
            portPart = nil
        }
        if hostPart.isEmpty {
            throw self.invalid("the host is missing")
        }
        configuration.host = try self.percentDecoded(hostPart, what: "host")
        if let portPart {
            guard let port = Self.decimal(portPart), (1...65535).contains(port) else {
                throw self.invalid("port '\(portPart)' is not a number in 1...65535")
            }
            configuration.port = port
        }

        if path.isEmpty || path == "/" {
            configuration.database = 0
        } else {
            let database = path.dropFirst()
            guard let number = Self.decimal(database), number <= Int(Int32.max) else {
                throw self.invalid("database '\(database)' is not a non-negative number")
            }
            configuration.database = number
        }
    }

    private func parseUnix(_ rest: Substring, into configuration: inout RedisConfiguration) throws {
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        let pathPart = rest[..<queryStart]
        guard pathPart.hasPrefix("/"), pathPart.count > 1 else {
            throw self.invalid("a unix URL needs an absolute socket path, e.g. unix:///var/run/redis.sock")
        }
        configuration.unixSocketPath = try self.percentDecoded(pathPart, what: "socket path")
        configuration.database = 0
        guard queryStart < rest.endIndex else {
            return
        }
        let query = rest[rest.index(after: queryStart)...]
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces.count == 2, pieces[0] == "db" else {
                throw self.invalid("unsupported query parameter '\(item)' (only db=N is supported)")
            }
            guard let number = Self.decimal(pieces[1]), number <= Int(Int32.max) else {
                throw self.invalid("database '\(pieces[1])' is not a non-negative number")
            }
            configuration.database = number
        }
    }

    /// A non-negative decimal number made only of ASCII digits.
    private static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 10,
            text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else {
            return nil
        }
        return Int(text)
    }

    private func percentDecoded(_ text: Substring, what: String) throws -> String {
        guard text.contains("%") else {
            return String(text)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else {
                throw self.invalid("bad percent-encoding in the \(what)")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
