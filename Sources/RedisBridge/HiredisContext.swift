import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A request waiting for (or being served by) a connection thread.
struct PendingRequest: Sendable {
    enum Completion: Sendable {
        case single(UnsafeContinuation<RedisReply, any Error>)
        case many(UnsafeContinuation<[RedisReply], any Error>)
    }

    var id: UInt64
    var commands: RedisCommandBuffer
    var completion: Completion

    func fail(_ error: any Error) {
        switch self.completion {
        case .single(let continuation):
            continuation.resume(throwing: error)
        case .many(let continuation):
            continuation.resume(throwing: error)
        }
    }
}

/// Owns one hiredis `redisContext`. Not thread-safe: only the connection's own thread uses it
/// (it lives inside a `Mutex` in ``RedisConnection``).
final class HiredisContext {
    private let configuration: RedisConfiguration
    private var context: UnsafeMutablePointer<redisContext>?

    /// Reusable argv scratch space for `redisAppendCommandArgv`.
    private var argv: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private var argvLengths: UnsafeMutablePointer<Int>
    private var argvCapacity: Int
    /// A valid pointer for zero-length arguments when the byte buffer has no storage.
    private let emptyArgument: UnsafeMutablePointer<CChar>

    init(configuration: RedisConfiguration) {
        self.configuration = configuration
        self.argvCapacity = 16
        self.argv = .allocate(capacity: 16)
        self.argvLengths = .allocate(capacity: 16)
        self.emptyArgument = .allocate(capacity: 1)
        self.emptyArgument.initialize(to: 0)
    }

    deinit {
        self.close()
        self.argv.deallocate()
        self.argvLengths.deallocate()
        self.emptyArgument.deallocate()
    }

    var isConnected: Bool { self.context != nil }

    /// Frees the context, if any.
    func close() {
        if let context = self.context {
            redisFree(context)
            self.context = nil
        }
    }

    /// Writes every request of the batch, then reads all replies in order and resumes each
    /// request as soon as its replies are in. On an I/O error or timeout the connection is
    /// closed and this and all later requests of the batch fail with that error.
    func execute(_ batch: [PendingRequest]) {
        if self.context != nil && !self.isIdleAndHealthy() {
            self.close()
        }
        let context: UnsafeMutablePointer<redisContext>
        do {
            context = try self.connectIfNeeded()
        } catch {
            for request in batch {
                request.fail(error)
            }
            return
        }

        for request in batch {
            if !self.append(request.commands, to: context) {
                let error = self.ioError(context, savedErrno: errno, during: "writing")
                self.close()
                for request in batch {
                    request.fail(error)
                }
                return
            }
        }

        var index = batch.startIndex
        while index < batch.endIndex {
            let request = batch[index]
            switch request.completion {
            case .single(let continuation):
                switch self.readReply(context) {
                case .success(let reply):
                    continuation.resume(returning: reply)
                case .failure(let error):
                    self.fail(batch[index...], with: error)
                    return
                }
            case .many(let continuation):
                var replies: [RedisReply] = []
                replies.reserveCapacity(request.commands.commandCount)
                for _ in 0..<request.commands.commandCount {
                    switch self.readReply(context) {
                    case .success(let reply):
                        replies.append(reply)
                    case .failure(let error):
                        self.fail(batch[index...], with: error)
                        return
                    }
                }
                continuation.resume(returning: replies)
            }
            index += 1
        }
    }

    private func fail(_ requests: ArraySlice<PendingRequest>, with error: RedisError) {
        self.close()
        for request in requests {
            request.fail(error)
        }
    }

    // MARK: Connecting

    private func connectIfNeeded() throws -> UnsafeMutablePointer<redisContext> {
        if let context = self.context {
            return context
        }
        let configuration = self.configuration
        let endpoint = configuration.endpointDescription
        let connectTimeout = timeval(configuration.connectTimeout)
        let maybeContext: UnsafeMutablePointer<redisContext>?
        if let path = configuration.unixSocketPath {
            maybeContext = redisConnectUnixWithTimeout(path, connectTimeout)
        } else {
            maybeContext = redisConnectWithTimeout(
                configuration.host,
                Int32(clamping: configuration.port),
                connectTimeout
            )
        }
        guard let context = maybeContext else {
            throw RedisError(kind: .connectionFailed, message: "connecting to \(endpoint): out of memory")
        }
        if context.pointee.err != 0 {
            let message = String(cString: tp_redis_errstr(context))
            redisFree(context)
            throw RedisError(kind: .connectionFailed, message: "connecting to \(endpoint) failed: \(message)")
        }
        if redisSetTimeout(context, timeval(configuration.commandTimeout)) != REDIS_OK {
            let message = String(cString: tp_redis_errstr(context))
            redisFree(context)
            throw RedisError(
                kind: .connectionFailed,
                message: "setting the command timeout on \(endpoint) failed: \(message)"
            )
        }
        if configuration.unixSocketPath == nil {
            // Keep-alive only helps to notice dead peers; failing to enable it is not fatal.
            _ = redisEnableKeepAlive(context)
        }
        self.context = context

        do {
            if let password = configuration.password {
                var auth = ["AUTH"]
                if let username = configuration.username {
                    auth.append(username)
                }
                auth.append(password)
                try self.setupCommand(auth, context: context, what: "AUTH")
            }
            if configuration.database != 0 {
                try self.setupCommand(["SELECT", String(configuration.database)], context: context, what: "SELECT")
            }
        } catch {
            self.close()
            throw error
        }
        return context
    }

    private func setupCommand(_ command: [String], context: UnsafeMutablePointer<redisContext>, what: String) throws {
        var buffer = RedisCommandBuffer()
        try buffer.append(command: command)
        guard self.append(buffer, to: context) else {
            throw RedisError(
                kind: .connectionFailed,
                message: "\(what) on \(self.configuration.endpointDescription) failed: out of memory"
            )
        }
        switch self.readReply(context) {
        case .success(.error(let message)):
            throw RedisError(
                kind: .connectionFailed,
                message: "\(what) on \(self.configuration.endpointDescription) failed: \(message)"
            )
        case .success:
            return
        case .failure(let error):
            throw RedisError(
                kind: .connectionFailed,
                message: "\(what) on \(self.configuration.endpointDescription) failed: \(error.message)"
            )
        }
    }

    /// A pooled connection with no request in flight must have nothing to read: if the socket is
    /// readable, the server closed it (EOF) or sent something unexpected, so it is not reused.
    private func isIdleAndHealthy() -> Bool {
        guard let context = self.context else {
            return false
        }
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        let result = poll(&descriptor, 1, 0)
        return result == 0
    }

    // MARK: Writing and reading

    private func reserveArgv(_ count: Int) {
        guard count > self.argvCapacity else {
            return
        }
        var capacity = self.argvCapacity
        while capacity < count {
            capacity *= 2
        }
        self.argv.deallocate()
        self.argvLengths.deallocate()
        self.argv = .allocate(capacity: capacity)
        self.argvLengths = .allocate(capacity: capacity)
        self.argvCapacity = capacity
    }

    /// Appends every command of the buffer to hiredis' output buffer (no I/O happens here).
    private func append(_ buffer: RedisCommandBuffer, to context: UnsafeMutablePointer<redisContext>) -> Bool {
        let lengths = buffer.lengths
        return buffer.bytes.withUnsafeBufferPointer { bytes -> Bool in
            let base: UnsafePointer<CChar> =
                bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
                ?? UnsafePointer(self.emptyArgument)
            var offset = 0
            var index = 0
            while index < lengths.count {
                let argumentCount = lengths[index]
                index += 1
                self.reserveArgv(argumentCount)
                for argument in 0..<argumentCount {
                    let length = lengths[index + argument]
                    self.argv[argument] = length == 0 ? UnsafePointer(self.emptyArgument) : base + offset
                    self.argvLengths[argument] = length
                    offset += length
                }
                index += argumentCount
                if redisAppendCommandArgv(context, Int32(argumentCount), self.argv, self.argvLengths) != REDIS_OK {
                    return false
                }
            }
            return true
        }
    }

    /// Reads one reply (flushing the output buffer first if needed) and copies it into Swift.
    private func readReply(_ context: UnsafeMutablePointer<redisContext>) -> Result<RedisReply, RedisError> {
        var raw: UnsafeMutableRawPointer? = nil
        let status = redisGetReply(context, &raw)
        let savedErrno = errno
        guard status == REDIS_OK else {
            if let raw {
                freeReplyObject(raw)
            }
            return .failure(self.ioError(context, savedErrno: savedErrno, during: "reading a reply"))
        }
        guard let raw else {
            return .failure(RedisError(kind: .protocolError, message: "hiredis returned no reply"))
        }
        let reply = RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        return .success(reply)
    }

    /// Classifies the error stored in the context.
    private func ioError(
        _ context: UnsafeMutablePointer<redisContext>,
        savedErrno: Int32,
        during activity: String
    ) -> RedisError {
        let message = String(cString: tp_redis_errstr(context))
        let endpoint = self.configuration.endpointDescription
        Self.discardPendingSIGPIPE()
        switch context.pointee.err {
        case REDIS_ERR_IO:
            if savedErrno == EAGAIN || savedErrno == EWOULDBLOCK || savedErrno == ETIMEDOUT {
                return RedisError(
                    kind: .timeout,
                    message: "\(endpoint) did not answer within \(self.configuration.commandTimeout) while \(activity)"
                )
            }
            return RedisError(
                kind: .connectionClosed,
                message: "I/O error on \(endpoint) while \(activity): \(message)"
            )
        case REDIS_ERR_EOF:
            return RedisError(
                kind: .connectionClosed,
                message: "\(endpoint) closed the connection while \(activity): \(message)"
            )
        case REDIS_ERR_PROTOCOL:
            return RedisError(kind: .protocolError, message: "protocol error from \(endpoint): \(message)")
        default:
            return RedisError(kind: .connectionClosed, message: "error on \(endpoint) while \(activity): \(message)")
        }
    }

    // MARK: SIGPIPE

    /// Blocks SIGPIPE on the calling thread so a write to a closed socket returns EPIPE instead
    /// of killing the process. Called once on each connection thread.
    static func blockSIGPIPEOnCurrentThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Consumes a SIGPIPE left pending on this thread by a failed write.
    private static func discardPendingSIGPIPE() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        var pending = sigset_t()
        guard sigpending(&pending) == 0, sigismember(&pending, SIGPIPE) == 1 else {
            return
        }
        var noWait = timespec(tv_sec: 0, tv_nsec: 0)
        _ = sigtimedwait(&set, nil, &noWait)
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(clamping: seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
