import RedisBridge

/// The Lua scripts that decide sales, each in one atomic step on the event's keys.
///
/// They implement exactly the decisions of `EventStock` (TrafficPoliceCore), which is their
/// reference model; the differential tests run both on the same random histories.
/// Every script takes `EventKeys.all` as KEYS: stock, allocation, sold, orders, meta.
/// An order is stored in the orders hash as `outcome|quantity|excess|released`.
public enum ReservationScripts {
    /// Shared Lua: the platforms, and the soft-cap check that enters red alert.
    private static let prelude = """
        local PLATFORMS = {'eventbrite', 'luma', 'meetup'}
        local function unsold_allocation()
          local alloc = redis.call('HMGET', KEYS[2], 'eventbrite', 'luma', 'meetup')
          local sold = redis.call('HMGET', KEYS[3], 'eventbrite', 'luma', 'meetup')
          local total = 0
          for i = 1, 3 do
            local a, s = tonumber(alloc[i]) or 0, tonumber(sold[i]) or 0
            if a > s then total = total + a - s end
          end
          return total
        end
        local function check_soft_cap(stock)
          local meta = redis.call('HMGET', KEYS[5], 'mode', 'capacity', 'soft_cap')
          if (meta[1] or 'open') ~= 'open' then return 0 end
          if tonumber(meta[2]) - stock < tonumber(meta[3]) then return 0 end
          local sold = redis.call('HMGET', KEYS[3], 'eventbrite', 'luma', 'meetup')
          redis.call('HSET', KEYS[2], 'eventbrite', sold[1] or 0, 'luma', sold[2] or 0, 'meetup', sold[3] or 0)
          redis.call('HSET', KEYS[5], 'mode', 'red_alert')
          return 1
        end
        local function load_stock()
          local stock = tonumber(redis.call('GET', KEYS[1]))
          if not stock then return nil end
          return stock
        end
        """

    /// ARGV: platform, order id, quantity.
    /// Returns `{verdict, outcome, duplicate, excess, stock, entered_red_alert, quantity}`
    /// (quantity as first decided);
    /// verdict is 1 (accepted, absorbed) or 0 (overbooked).
    public static let reserve = RedisScript(
        prelude + "\n" + """
            local platform, order_id, qty = ARGV[1], ARGV[2], tonumber(ARGV[3])
            if platform ~= 'eventbrite' and platform ~= 'luma' and platform ~= 'meetup' then
              return redis.error_reply('ERR unknown platform ' .. tostring(platform))
            end
            if not qty or qty < 1 or qty ~= math.floor(qty) then
              return redis.error_reply('ERR quantity must be a positive integer')
            end
            local stock = load_stock()
            if not stock then return redis.error_reply('NOEVENT event counters are not loaded') end
            local field = platform .. ':' .. order_id
            local prior = redis.call('HGET', KEYS[4], field)
            if prior then
              local outcome, first_qty, excess = string.match(prior, '^(%a+)|(%d+)|(%d+)|')
              local verdict = 1
              if outcome == 'overbooked' then verdict = 0 end
              return {verdict, outcome, 1, tonumber(excess), stock, 0, tonumber(first_qty)}
            end
            local a = tonumber(redis.call('HGET', KEYS[2], platform)) or 0
            local s = tonumber(redis.call('HGET', KEYS[3], platform)) or 0
            local outcome, excess = 'overbooked', 0
            if s + qty <= a and qty <= stock then
              outcome = 'accepted'
            else
              excess = s + qty - a
              if excess <= stock - unsold_allocation() and qty <= stock then
                outcome = 'absorbed'
                redis.call('HSET', KEYS[2], platform, a + excess)
              else
                excess = 0
              end
            end
            redis.call('HSET', KEYS[4], field, outcome .. '|' .. qty .. '|' .. excess .. '|0')
            if outcome == 'overbooked' then return {0, outcome, 0, 0, stock, 0, qty} end
            stock = stock - qty
            redis.call('SET', KEYS[1], stock)
            redis.call('HINCRBY', KEYS[3], platform, qty)
            return {1, outcome, 0, excess, stock, check_soft_cap(stock), qty}
            """)

    /// ARGV: channel, order id. Returns the `ReleaseResult` raw value. In red alert and when
    /// closed the platform's allocation shrinks with the release (it stays = sold).
    public static let release = RedisScript(
        prelude + "\n" + """
            local channel, order_id = ARGV[1], ARGV[2]
            if not load_stock() then return redis.error_reply('NOEVENT event counters are not loaded') end
            local field = channel .. ':' .. order_id
            local prior = redis.call('HGET', KEYS[4], field)
            if not prior then
              redis.call('HSET', KEYS[4], field, 'overbooked|0|0|1')
              return 'unknown_order'
            end
            local outcome, qty, excess, released = string.match(prior, '^(%a+)|(%d+)|(%d+)|(%d)$')
            if released == '1' then return 'already_released' end
            redis.call('HSET', KEYS[4], field, outcome .. '|' .. qty .. '|' .. excess .. '|1')
            if outcome == 'overbooked' or tonumber(qty) == 0 then return 'released_nothing_held' end
            redis.call('INCRBY', KEYS[1], qty)
            redis.call('HINCRBY', KEYS[3], channel, -tonumber(qty))
            local mode = redis.call('HGET', KEYS[5], 'mode')
            if channel ~= 'box_office' and (mode == 'red_alert' or mode == 'closed') then
              local a = tonumber(redis.call('HGET', KEYS[2], channel)) or 0
              a = a - tonumber(qty)
              if a < 0 then a = 0 end
              redis.call('HSET', KEYS[2], channel, a)
            end
            return 'released'
            """)

    /// ARGV: sale id, quantity.
    /// Returns `{result, quantity_or_available, stock, entered_red_alert}` where result is
    /// `sold`, `duplicate`, `refused` (with what is available) or `failsafe`.
    public static let sellBoxOffice = RedisScript(
        prelude + "\n" + """
            local sale_id, qty = ARGV[1], tonumber(ARGV[2])
            if not qty or qty < 1 or qty ~= math.floor(qty) then
              return redis.error_reply('ERR quantity must be a positive integer')
            end
            local stock = load_stock()
            if not stock then return redis.error_reply('NOEVENT event counters are not loaded') end
            local field = 'box_office:' .. sale_id
            local prior = redis.call('HGET', KEYS[4], field)
            if prior then
              local _, q = string.match(prior, '^(%a+)|(%d+)|')
              return {'duplicate', tonumber(q), stock, 0}
            end
            if redis.call('HGET', KEYS[5], 'mode') == 'failsafe' then return {'failsafe', 0, stock, 0} end
            local free = stock - unsold_allocation()
            if qty > free then
              if free < 0 then free = 0 end
              return {'refused', free, stock, 0}
            end
            redis.call('HSET', KEYS[4], field, 'accepted|' .. qty .. '|0|0')
            stock = stock - qty
            redis.call('SET', KEYS[1], stock)
            redis.call('HINCRBY', KEYS[3], 'box_office', qty)
            return {'sold', qty, stock, check_soft_cap(stock)}
            """)

    /// Loads an event's counters. ARGV: `replace` or `if_absent`, stock, capacity, safety_stock,
    /// soft_cap, mode, allocation ×3 (eventbrite, luma, meetup), sold ×4 (the platforms, then
    /// box_office), then field/value pairs of the orders hash. With `if_absent` it does nothing
    /// (returns 0) when the counters exist, so two rebuilds racing cannot wipe a decision taken
    /// in between. Returns 1 when it loaded.
    public static let load = RedisScript(
        """
        if ARGV[1] == 'if_absent' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local A = {}
        for i = 2, #ARGV do A[i - 1] = ARGV[i] end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
        redis.call('SET', KEYS[1], A[1])
        redis.call('HSET', KEYS[5], 'capacity', A[2], 'safety_stock', A[3], 'soft_cap', A[4], 'mode', A[5])
        redis.call('HSET', KEYS[2], 'eventbrite', A[6], 'luma', A[7], 'meetup', A[8])
        redis.call('HSET', KEYS[3], 'eventbrite', A[9], 'luma', A[10], 'meetup', A[11], 'box_office', A[12])
        local batch = {}
        for i = 13, #A, 2 do
          batch[#batch + 1] = A[i]
          batch[#batch + 1] = A[i + 1]
          if #batch >= 1000 then
            redis.call('HSET', KEYS[4], unpack(batch))
            batch = {}
          end
        end
        if #batch > 0 then redis.call('HSET', KEYS[4], unpack(batch)) end
        return 1
        """)

    /// ARGV: mode. Sets the event's mode; `red_alert` and `closed` also close every platform
    /// (allocation = sold). Returns the previous mode.
    public static let setMode = RedisScript(
        """
        if not redis.call('GET', KEYS[1]) then return redis.error_reply('NOEVENT event counters are not loaded') end
        local previous = redis.call('HGET', KEYS[5], 'mode') or 'open'
        if ARGV[1] == 'red_alert' or ARGV[1] == 'closed' then
          local sold = redis.call('HMGET', KEYS[3], 'eventbrite', 'luma', 'meetup')
          redis.call('HSET', KEYS[2], 'eventbrite', sold[1] or 0, 'luma', sold[2] or 0, 'meetup', sold[3] or 0)
        end
        redis.call('HSET', KEYS[5], 'mode', ARGV[1])
        return previous
        """)
}
