import CHiredis

/// A reply from Redis (RESP2), copied out of hiredis.
public enum RedisReply: Sendable, Hashable {
    /// A simple string such as `OK` or `PONG`.
    case status(String)
    /// An error reply such as `ERR unknown command`.
    case error(String)
    /// An integer reply.
    case integer(Int64)
    /// A bulk string, as raw bytes.
    case bulkString([UInt8])
    /// A nil bulk string or nil array.
    case null
    /// A (possibly nested) array.
    case array([RedisReply])

    /// The status or bulk string decoded as UTF-8; `nil` for other replies.
    public var string: String? {
        switch self {
        case .status(let string):
            return string
        case .bulkString(let bytes):
            return String(decoding: bytes, as: UTF8.self)
        case .error, .integer, .null, .array:
            return nil
        }
    }

    /// The integer, or a bulk/status string that parses as `Int64`; `nil` otherwise.
    public var integer: Int64? {
        switch self {
        case .integer(let value):
            return value
        case .status(let string):
            return Int64(string)
        case .bulkString(let bytes):
            return Int64(String(decoding: bytes, as: UTF8.self))
        case .error, .null, .array:
            return nil
        }
    }

    /// The elements of an array reply; `nil` for other replies.
    public var array: [RedisReply]? {
        if case .array(let elements) = self {
            return elements
        }
        return nil
    }

    /// Whether this is a nil reply.
    public var isNull: Bool {
        if case .null = self {
            return true
        }
        return false
    }
}

extension RedisReply {
    /// Copies a hiredis reply (and its children) into Swift values. Does not free it.
    init(copying reply: UnsafePointer<redisReply>) {
        let raw = reply.pointee
        switch raw.type {
        case REDIS_REPLY_STRING:
            self = .bulkString(Self.bytes(raw.str, raw.len))
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: Self.bytes(raw.str, raw.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: Self.bytes(raw.str, raw.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(raw.integer))
        case REDIS_REPLY_NIL:
            self = .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(raw.elements)
            if let children = raw.element {
                for index in 0..<raw.elements {
                    if let child = children[index] {
                        elements.append(RedisReply(copying: child))
                    } else {
                        elements.append(.null)
                    }
                }
            }
            self = .array(elements)
        default:
            self = .error("unsupported hiredis reply type \(raw.type)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else {
            return []
        }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// Whether this is the `NOSCRIPT` error reply of EVALSHA.
    var isNoScriptError: Bool {
        if case .error(let message) = self {
            return message.hasPrefix("NOSCRIPT")
        }
        return false
    }
}
