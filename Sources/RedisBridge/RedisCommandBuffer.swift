/// One or more commands encoded as one contiguous byte buffer.
///
/// `lengths` holds, per command, its argument count followed by the byte length of each
/// argument; the arguments' bytes follow each other in `bytes`. Two allocations per buffer,
/// however many arguments, and no C strings are built until the connection thread hands
/// pointers into `bytes` to `redisAppendCommandArgv`.
struct RedisCommandBuffer: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var lengths: [Int] = []
    private(set) var commandCount = 0

    init() {}

    /// Appends one command; throws `.protocolError` for an empty command (Redis would not answer it).
    mutating func append(command: [String]) throws {
        guard !command.isEmpty else {
            throw RedisError(kind: .protocolError, message: "cannot send an empty command")
        }
        var byteCount = 0
        for argument in command {
            byteCount &+= argument.utf8.count
        }
        self.bytes.reserveCapacity(self.bytes.count + byteCount)
        self.lengths.reserveCapacity(self.lengths.count + command.count + 1)
        self.lengths.append(command.count)
        for argument in command {
            self.appendArgument(argument)
        }
        self.commandCount += 1
    }

    /// Appends `EVALSHA sha numkeys keys... arguments...`.
    mutating func appendEvalSHA(sha: String, keys: [String], arguments: [String]) {
        var byteCount = 7 + sha.utf8.count + 4
        for key in keys {
            byteCount &+= key.utf8.count
        }
        for argument in arguments {
            byteCount &+= argument.utf8.count
        }
        self.bytes.reserveCapacity(self.bytes.count + byteCount)
        self.lengths.reserveCapacity(self.lengths.count + keys.count + arguments.count + 4)
        self.lengths.append(3 + keys.count + arguments.count)
        self.appendArgument("EVALSHA")
        self.appendArgument(sha)
        self.appendArgument(String(keys.count))
        for key in keys {
            self.appendArgument(key)
        }
        for argument in arguments {
            self.appendArgument(argument)
        }
        self.commandCount += 1
    }

    private mutating func appendArgument(_ argument: String) {
        let before = self.bytes.count
        self.bytes.append(contentsOf: argument.utf8)
        self.lengths.append(self.bytes.count - before)
    }
}
