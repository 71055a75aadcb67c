import RedisBridge

/// The throttler's Lua, each one atomic step on a bucket's ``ThrottleKeys`` (KEYS: tat, paused).
///
/// `acquire` is exactly `GCRA.admit` (TrafficPoliceCore), its reference model. Times are
/// microseconds; Lua numbers are doubles, exact for integers up to 2^53 µs (year 2255).
/// "Now" is Redis's own `TIME` unless the caller passes one (tests): every daemon instance then
/// measures the shared TAT on one clock, so a skewed host clock can neither spend the budget
/// early nor stall the others. (Redis ≥ 5 replicates script effects, so TIME is allowed.)
/// Keys expire a minute after they stop mattering (an expired TAT or pause means the same as none).
public enum ThrottleScripts {
    private static let now = """
        local function now_micros(arg)
          local given = tonumber(arg)
          if given then return given end
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000000 + tonumber(t[2])
        end
        """

    /// ARGV: emission interval µs, the lane's tolerance µs, cost, now µs or '' for Redis TIME.
    /// Returns `{allowed, retry_after_us, now_us}`; retry-after is -1 when the cost can never fit.
    public static let acquire = RedisScript(
        now + "\n" + """
            local interval, tolerance, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
            if not interval or interval < 1 or not tolerance or not cost or cost < 0 then
              return redis.error_reply('ERR bad throttle arguments')
            end
            local now = now_micros(ARGV[4])
            if cost * interval > tolerance then return {0, -1, now} end
            local paused = tonumber(redis.call('GET', KEYS[2])) or 0
            local tat = tonumber(redis.call('GET', KEYS[1])) or now
            if tat < now then tat = now end
            local new_tat = tat + cost * interval
            local wait = math.max(paused - now, new_tat - tolerance - now, 0)
            if wait > 0 then return {0, wait, now} end
            if new_tat > now then
              redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 60000)
            end
            return {1, 0, now}
            """)

    /// ARGV: pause µs, now µs or '' for Redis TIME. Extends the pause (never shortens it); returns its end µs.
    public static let pause = RedisScript(
        now + "\n" + """
            local length = tonumber(ARGV[1])
            if not length or length < 0 then return redis.error_reply('ERR bad pause length') end
            local now = now_micros(ARGV[2])
            local untl = now + length
            local current = tonumber(redis.call('GET', KEYS[2])) or 0
            if current >= untl then return string.format('%.0f', current) end
            redis.call('SET', KEYS[2], string.format('%.0f', untl), 'PX', math.ceil(length / 1000) + 60000)
            return string.format('%.0f', untl)
            """)
}
