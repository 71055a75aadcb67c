import Synchronization

/// A pooled Redis client for hiredis.
///
/// Each of the `poolSize` connections has its own thread (a one-thread `NIOThreadPool`), so no
/// blocking C call ever runs on Swift's cooperative pool. A call goes to the connection with the
/// fewest pending commands; each connection auto-pipelines everything queued on it. Connections
/// are opened lazily and reopened after an I/O error or timeout.
///
/// Call ``shutdown()`` before the last reference goes away.
public final class RedisClient: Sendable {
    /// The configuration this client was created with.
    public let configuration: RedisConfiguration

    private let connections: [RedisConnection]
    private let configurationError: RedisError?
    private let isShutDown = Atomic<Bool>(false)
    /// Script source to the SHA1 the server returned for it.
    private let scriptSHAs = Mutex<[String: String]>([:])
    /// How many SCRIPT LOADs this client sent (for tests).
    let scriptLoadCount = Atomic<Int>(0)

    /// Creates a client; no connection is opened until the first call.
    ///
    /// An invalid configuration (see ``RedisConfiguration/validate()``) does not trap: every call
    /// throws `RedisError(kind: .invalidConfiguration)` instead.
    public init(configuration: RedisConfiguration) {
        self.configuration = configuration
        self.configurationError = configuration.validationError
        if self.configurationError == nil {
            self.connections = (0..<configuration.poolSize).map { _ in
                RedisConnection(configuration: configuration)
            }
        } else {
            self.connections = []
        }
    }

    /// Creates a client from a `redis://` or `unix://` URL.
    public convenience init(url: String) throws {
        self.init(configuration: try RedisConfiguration(url: url))
    }

    // MARK: Commands

    /// One command. An error reply throws RedisError(kind: .serverError, message: <the reply text>).
    public func send(_ command: [String]) async throws -> RedisReply {
        var buffer = RedisCommandBuffer()
        try buffer.append(command: command)
        let reply = try await self.connection().execute(buffer)
        if case .error(let message) = reply {
            throw RedisError(kind: .serverError, message: message)
        }
        return reply
    }

    /// One command. An error reply throws RedisError(kind: .serverError, message: <the reply text>).
    public func send(_ command: String...) async throws -> RedisReply {
        try await self.send(command)
    }

    /// Writes all commands, then reads all replies, on one connection.
    /// Error replies come back in place as `.error`; only I/O problems throw.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        guard !commands.isEmpty else {
            try self.checkUsable()
            return []
        }
        var buffer = RedisCommandBuffer()
        for command in commands {
            try buffer.append(command: command)
        }
        return try await self.connection().executeAll(buffer)
    }

    // MARK: Scripts

    /// EVALSHA through the script registry: loads the script (SCRIPT LOAD) the first time, caches the SHA,
    /// and on a NOSCRIPT reply reloads and retries once. Error replies throw .serverError.
    public func evalSHA(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisReply {
        let sha = try await self.sha1(of: script)
        var buffer = RedisCommandBuffer()
        buffer.appendEvalSHA(sha: sha, keys: keys, arguments: arguments)
        var reply = try await self.connection().execute(buffer)
        if reply.isNoScriptError {
            let reloaded = try await self.loadScript(script)
            var retry = RedisCommandBuffer()
            retry.appendEvalSHA(sha: reloaded, keys: keys, arguments: arguments)
            reply = try await self.connection().execute(retry)
        }
        if case .error(let message) = reply {
            throw RedisError(kind: .serverError, message: message)
        }
        return reply
    }

    /// The same for many calls of one script in one pipeline (used by benchmarks and batch work);
    /// error replies come back in place as `.error` (NOSCRIPT handled by reload + retry of the batch).
    ///
    /// Only the calls that actually got NOSCRIPT are sent again (in one pipeline, in order), so a
    /// call that already ran is never run twice.
    public func evalSHAPipeline(
        _ script: RedisScript,
        calls: [(keys: [String], arguments: [String])]
    ) async throws -> [RedisReply] {
        guard !calls.isEmpty else {
            try self.checkUsable()
            return []
        }
        let sha = try await self.sha1(of: script)
        var buffer = RedisCommandBuffer()
        for call in calls {
            buffer.appendEvalSHA(sha: sha, keys: call.keys, arguments: call.arguments)
        }
        var replies = try await self.connection().executeAll(buffer)
        let missing = replies.indices.filter { replies[$0].isNoScriptError }
        if !missing.isEmpty {
            let reloaded = try await self.loadScript(script)
            var retry = RedisCommandBuffer()
            for index in missing {
                retry.appendEvalSHA(sha: reloaded, keys: calls[index].keys, arguments: calls[index].arguments)
            }
            let retried = try await self.connection().executeAll(retry)
            for (index, reply) in zip(missing, retried) {
                replies[index] = reply
            }
        }
        return replies
    }

    /// The SHA1 the server gave for this script (loading it if needed).
    public func sha1(of script: RedisScript) async throws -> String {
        if let sha = self.scriptSHAs.withLock({ $0[script.source] }) {
            return sha
        }
        return try await self.loadScript(script)
    }

    /// Sends SCRIPT LOAD and caches the SHA it returns.
    @discardableResult
    private func loadScript(_ script: RedisScript) async throws -> String {
        self.scriptLoadCount.add(1, ordering: .relaxed)
        let reply = try await self.send(["SCRIPT", "LOAD", script.source])
        guard let sha = reply.string, !sha.isEmpty else {
            throw RedisError(kind: .protocolError, message: "SCRIPT LOAD returned \(reply) instead of a SHA1")
        }
        self.scriptSHAs.withLock { $0[script.source] = sha }
        return sha
    }

    // MARK: Lifecycle

    /// Closes every connection and stops the threads; later calls throw .shutdown. Idempotent.
    public func shutdown() async {
        guard !self.isShutDown.exchange(true, ordering: .acquiringAndReleasing) else {
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for connection in self.connections {
                group.addTask {
                    await connection.shutdown()
                }
            }
        }
    }

    private func checkUsable() throws {
        if let error = self.configurationError {
            throw error
        }
        if self.isShutDown.load(ordering: .relaxed) {
            throw RedisError.shutdown
        }
    }

    /// The first connection with fewer than `packingLimit` pending commands, else the one with the
    /// fewest.
    private func connection() throws -> RedisConnection {
        try self.checkUsable()
        guard var best = self.connections.first else {
            throw RedisError.invalidConfiguration("the client has no connections")
        }
        let packingLimit = self.configuration.packingLimit
        var bestPending = best.pendingCommands.load(ordering: .relaxed)
        if bestPending > 0 && bestPending >= packingLimit {
            for candidate in self.connections.dropFirst() {
                let pending = candidate.pendingCommands.load(ordering: .relaxed)
                if pending < packingLimit || pending == 0 {
                    return candidate
                }
                if pending < bestPending {
                    best = candidate
                    bestPending = pending
                }
            }
        }
        return best
    }
}
