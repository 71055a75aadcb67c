import RedisBridge

/// The queue's Lua scripts: each is one atomic step, so a job is never both in two places nor in none.
enum QueueScripts {
    /// Enqueue: a delivery id seen within its TTL is refused; otherwise XADD, then remember the id.
    /// KEYS: stream, dedupe key. ARGV: ttl seconds, retention, field/value pairs.
    /// Returns {1, id} or {0, previous id}; `QUEUEFULL` when the stream holds `retention` entries
    /// (so MAXLEN never trims a job that was answered 202).
    static let enqueue = RedisScript(
        """
        local previous = redis.call('GET', KEYS[2])
        if previous then return {0, previous} end
        if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then
          return redis.error_reply('QUEUEFULL the queue holds ' .. ARGV[2] .. ' jobs')
        end
        local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
        redis.call('SET', KEYS[2], id, 'EX', ARGV[1])
        return {1, id}
        """)

    /// Claim: moves due retries back into the stream, then claims jobs idle past the visibility timeout.
    /// KEYS: stream, delayed. ARGV: group, consumer, count, min idle ms, retention, promote limit.
    /// Returns {promoted, {{id, fields, deliveries}, …}}.
    static let claim = RedisScript(
        """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[6]))
        for _, member in ipairs(due) do
          local ok, fields = pcall(cjson.decode, member)
          if ok and type(fields) == 'table' and #fields >= 2 then
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
          end
          redis.call('ZREM', KEYS[2], member)
        end
        local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], '0-0', 'COUNT', ARGV[3])
        local out = {}
        for _, entry in ipairs(claimed[2]) do
          if type(entry) == 'table' and entry[1] then
            local pending = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
            local deliveries = 1
            if pending[1] then deliveries = pending[1][4] end
            table.insert(out, {entry[1], entry[2], deliveries})
          end
        end
        return {#due, out}
        """)

    /// Settle a job held by the group: ack (delete), retry (to the delayed set), or move to another stream
    /// (dead letters, parked), with field overrides. Nothing happens when the job is no longer pending
    /// (another consumer settled it), so a job is never settled twice.
    /// KEYS: stream, target (delayed zset or stream), retries counter.
    /// ARGV: group, id, mode (ack|retry|move), delay ms, target maxlen (0 = no trim), override pairs.
    /// Returns 1 when settled, 0 when it was not pending.
    static let settle = RedisScript(
        """
        local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
        if not pending[1] then return 0 end
        local mode = ARGV[3]
        if mode ~= 'ack' then
          local entries = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
          local fields, index = {}, {}
          if entries[1] then
            local raw = entries[1][2]
            for i = 1, #raw, 2 do
              table.insert(fields, raw[i]); table.insert(fields, raw[i + 1]); index[raw[i]] = #fields
            end
          end
          for i = 6, #ARGV, 2 do
            local at = index[ARGV[i]]
            if at then fields[at] = ARGV[i + 1] else
              table.insert(fields, ARGV[i]); table.insert(fields, ARGV[i + 1]); index[ARGV[i]] = #fields
            end
          end
          if mode == 'retry' then
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), cjson.encode(fields))
            redis.call('INCR', KEYS[3])
          elseif tonumber(ARGV[5]) > 0 then
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', unpack(fields))
          else
            redis.call('XADD', KEYS[2], '*', unpack(fields))
          end
        end
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        redis.call('XDEL', KEYS[1], ARGV[2])
        return 1
        """)

    /// Requeue entries of another stream (dead letters, parked jobs) as fresh jobs at attempt 1.
    /// KEYS: source stream, stream. ARGV: retention, then either `id` ID or `first` COUNT.
    /// Returns the new job ids (empty when nothing matched).
    static let requeue = RedisScript(
        """
        local entries
        if ARGV[2] == 'id' then
          entries = {}
          for i = 3, #ARGV do
            for _, entry in ipairs(redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])) do table.insert(entries, entry) end
          end
        else
          entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', tonumber(ARGV[3]))
        end
        local ids = {}
        for _, entry in ipairs(entries) do
          local raw, fields = entry[2], {}
          for i = 1, #raw, 2 do
            local name = raw[i]
            if name == 'attempt' then
              table.insert(fields, name); table.insert(fields, '1')
            elseif name ~= 'delay_ms' and name ~= 'failed_at' and name ~= 'attempts' and name ~= 'reason' then
              table.insert(fields, name); table.insert(fields, raw[i + 1])
            end
          end
          table.insert(ids, redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', unpack(fields)))
          redis.call('XDEL', KEYS[1], entry[1])
        end
        return ids
        """)

    /// Retire a consumer that holds nothing (a daemon leaving); one that still holds jobs is kept,
    /// since XGROUP DELCONSUMER would drop its pending jobs. KEYS: stream. ARGV: group, consumer.
    /// Returns 1 when deleted.
    static let retireConsumer = RedisScript(
        """
        local held = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
        if held[1] then return 0 end
        redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
        return 1
        """)
}
