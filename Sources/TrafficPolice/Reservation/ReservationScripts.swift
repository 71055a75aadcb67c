import RedisBridge

/// The Lua scripts that decide sales, each in one atomic step on the event's keys.
///
/// They implement exactly the decisions of `EventStock` (TrafficPoliceCore), which is their
/// reference model; the differential tests run both on the same random histories.
/// Every script takes `EventKeys.all` as KEYS: stock, allocation, sold, orders, meta.
/// An order is stored in the orders hash as `outcome|quantity|excess|released`, followed by
/// `|target|version|revision` once an amendment touched it (`OrderRecord`'s fields).
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
        -- An error reply for a platform or a whole number below `least`, else nil.
        local function invalid(platform, qty, least, what)
          if platform ~= 'eventbrite' and platform ~= 'luma' and platform ~= 'meetup' then
            return redis.error_reply('ERR unknown platform ' .. tostring(platform))
          end
          if not qty or qty < least or qty ~= math.floor(qty) then return redis.error_reply('ERR ' .. what) end
          return nil
        end
        local function load_stock()
          local stock = tonumber(redis.call('GET', KEYS[1]))
          if not stock then return nil end
          return stock
        end
        local function parse_order(text)
          local o, q, e, r, rest = string.match(text, '^(%a+)|(%d+)|(%d+)|(%d)(.*)$')
          local order = {outcome = o, quantity = tonumber(q), excess = tonumber(e), released = r == '1'}
          local t, v, rev = string.match(rest, '^|(%d+)|(%d+)|(%d+)$')
          if t then
            order.target, order.version, order.revision = tonumber(t), v, tonumber(rev)
          else
            order.version, order.revision = '0', 0
            if order.released then order.target = 0 else order.target = order.quantity end
          end
          return order
        end
        local function encode_order(o)
          local text = o.outcome .. '|' .. o.quantity .. '|' .. o.excess .. '|' .. (o.released and '1' or '0')
          local derived = o.quantity
          if o.released then derived = 0 end
          if o.revision > 0 or o.version ~= '0' or o.target ~= derived then
            text = text .. '|' .. o.target .. '|' .. o.version .. '|' .. o.revision
          end
          return text
        end
        local function held(o)
          if o.outcome ~= 'overbooked' and not o.released then return o.quantity end
          return 0
        end
        -- qty new tickets on platform by the reservation rule; returns outcome, excess, stock.
        local function take(platform, qty, stock)
          local a = tonumber(redis.call('HGET', KEYS[2], platform)) or 0
          local s = tonumber(redis.call('HGET', KEYS[3], platform)) or 0
          local outcome, excess = 'accepted', 0
          if s + qty > a or qty > stock then
            excess = s + qty - a
            if excess <= stock - unsold_allocation() and qty <= stock then
              outcome = 'absorbed'
              redis.call('HSET', KEYS[2], platform, a + excess)
            else
              return 'overbooked', 0, stock
            end
          end
          stock = stock - qty
          redis.call('SET', KEYS[1], stock)
          redis.call('HINCRBY', KEYS[3], platform, qty)
          return outcome, excess, stock
        end
        -- Gives qty tickets of channel back, as a release does; returns the stock.
        local function give_back(channel, qty)
          local stock = redis.call('INCRBY', KEYS[1], qty)
          redis.call('HINCRBY', KEYS[3], channel, -qty)
          local mode = redis.call('HGET', KEYS[5], 'mode')
          if channel ~= 'box_office' and (mode == 'red_alert' or mode == 'closed') then
            local a = (tonumber(redis.call('HGET', KEYS[2], channel)) or 0) - qty
            if a < 0 then a = 0 end
            redis.call('HSET', KEYS[2], channel, a)
          end
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
            local err = invalid(platform, qty, 1, 'quantity must be a positive integer')
            if err then return err end
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
            local outcome, excess
            outcome, excess, stock = take(platform, qty, stock)
            redis.call('HSET', KEYS[4], field, outcome .. '|' .. qty .. '|' .. excess .. '|0')
            if outcome == 'overbooked' then return {0, outcome, 0, 0, stock, 0, qty} end
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
            local order = parse_order(prior)
            if order.released then return 'already_released' end
            local h = held(order)
            order.released, order.target = true, 0
            if order.revision > 0 then order.revision = order.revision + 1 end
            redis.call('HSET', KEYS[4], field, encode_order(order))
            if h == 0 then return 'released_nothing_held' end
            give_back(channel, h)
            return 'released'
            """)

    /// ARGV: platform, order id, quantity (0 to release), version (the platform's, ≥ 0; 0 unknown).
    /// Returns `{change, order, previous_held, excess, stock, entered_red_alert}` where change is an
    /// `AmendmentResult.Change` raw value and order the order's encoding after the step.
    /// Exactly `EventStock.amend`: see its rules.
    public static let amend = RedisScript(
        prelude + "\n" + """
            local platform, order_id, qty, version = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
            local err = invalid(platform, qty, 0, 'amended quantity must be a whole number from 0')
              or invalid(platform, tonumber(string.match(version or '', '^%d+$')), 0,
                'amended quantity version must be a whole number from 0')
            if err then return err end
            local stock = load_stock()
            if not stock then return redis.error_reply('NOEVENT event counters are not loaded') end
            local field = platform .. ':' .. order_id
            local text = redis.call('HGET', KEYS[4], field)
            local order, h = nil, 0
            if text then
              order = parse_order(text)
              h = held(order)
              if tonumber(version) < tonumber(order.version) then return {'stale', text, h, 0, stock, 0} end
              if order.target == qty then
                if tonumber(version) > tonumber(order.version) then
                  order.version = version
                  text = encode_order(order)
                  redis.call('HSET', KEYS[4], field, text)
                end
                return {'duplicate', text, h, 0, stock, 0}
              end
            end
            local existed = order ~= nil
            if not order then
              order = {outcome = 'overbooked', quantity = 0, excess = 0, released = true, version = '0', revision = 0}
            end
            order.target = qty
            if tonumber(version) > tonumber(order.version) then order.version = version end
            order.revision = order.revision + 1
            local change, excess, entered = 'unchanged', 0, 0
            if qty < h then
              stock = give_back(platform, h - qty)
              if qty == 0 then order.released = true else order.quantity = qty end
              change = 'decreased'
            elseif qty == h then
              if qty == 0 then order.released = true end
            else
              local outcome, grown
              outcome, grown, stock = take(platform, qty - h, stock)
              if outcome ~= 'overbooked' then
                excess = grown
                order.excess = order.excess + grown
                if h == 0 or outcome == 'absorbed' then order.outcome = outcome end
                order.quantity, order.released = qty, false
                entered = check_soft_cap(stock)
                change = 'increased'
              else
                if not existed then order.quantity, order.released = qty, false end
                change = 'refused'
              end
            end
            text = encode_order(order)
            redis.call('HSET', KEYS[4], field, text)
            return {change, text, h, excess, stock, entered}
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
    /// box_office), fence, then field/value pairs of the orders hash. With `if_absent` it does nothing
    /// (returns 0) when the counters exist, so two rebuilds racing cannot wipe a decision taken
    /// in between. Returns 1 when it loaded. The fence counter never goes back: it becomes the
    /// larger of the loaded one and the one Redis held, so a rebuild never grants a token twice.
    public static let load = RedisScript(
        """
        if ARGV[1] == 'if_absent' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local A = {}
        for i = 2, #ARGV do A[i - 1] = ARGV[i] end
        local fence = tonumber(redis.call('HGET', KEYS[5], 'fence')) or 0
        if (tonumber(A[13]) or 0) > fence then fence = tonumber(A[13]) end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
        redis.call('SET', KEYS[1], A[1])
        redis.call('HSET', KEYS[5], 'capacity', A[2], 'safety_stock', A[3], 'soft_cap', A[4], 'mode', A[5],
          'fence', string.format('%d', fence))
        redis.call('HSET', KEYS[2], 'eventbrite', A[6], 'luma', A[7], 'meetup', A[8])
        redis.call('HSET', KEYS[3], 'eventbrite', A[9], 'luma', A[10], 'meetup', A[11], 'box_office', A[12])
        local batch = {}
        for i = 14, #A, 2 do
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

    /// Grants the next fencing token: increments `fence` in the event's meta hash and returns it
    /// (`EventStock.grantFence`). No ARGV.
    public static let grantFence = RedisScript(
        """
        if not redis.call('GET', KEYS[1]) then return redis.error_reply('NOEVENT event counters are not loaded') end
        return redis.call('HINCRBY', KEYS[5], 'fence', 1)
        """)

    /// ARGV: donor platform, receiver platform, tickets (≥ 1), fence (≥ 1), keeping_at_least (≥ 0).
    /// Returns `{outcome, moved, fence, allocation ×3 (eventbrite, luma, meetup)}` where outcome is
    /// a `TransferResult.Outcome` raw value and fence the current counter.
    /// Exactly `EventStock.transfer`: stale fence, then not open, then it moves
    /// min(tickets, allocation(from) − max(sold(from), keeping_at_least)), never below 0.
    public static let transfer = RedisScript(
        prelude + "\n" + """
            local from, to = ARGV[1], ARGV[2]
            local tickets, fence, keep = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
            local err = invalid(from, tickets, 1, 'transfer tickets must be a whole number from 1')
              or invalid(to, fence, 1, 'transfer fence must be a whole number from 1')
              or invalid(to, keep, 0, 'transfer kept capacity must be a whole number from 0')
            if err then return err end
            if from == to then return redis.error_reply('ERR transfer needs two platforms') end
            if not load_stock() then return redis.error_reply('NOEVENT event counters are not loaded') end
            local meta = redis.call('HMGET', KEYS[5], 'fence', 'mode')
            local current = tonumber(meta[1]) or 0
            local function reply(outcome, moved)
              local a = redis.call('HMGET', KEYS[2], 'eventbrite', 'luma', 'meetup')
              return {outcome, moved, current, tonumber(a[1]) or 0, tonumber(a[2]) or 0, tonumber(a[3]) or 0}
            end
            if fence ~= current then return reply('stale_fence', 0) end
            if (meta[2] or 'open') ~= 'open' then return reply('not_open', 0) end
            local held = tonumber(redis.call('HGET', KEYS[2], from)) or 0
            local floor = tonumber(redis.call('HGET', KEYS[3], from)) or 0
            if keep > floor then floor = keep end
            local moved = held - floor
            if tickets < moved then moved = tickets end
            if moved < 0 then moved = 0 end
            if moved > 0 then
              redis.call('HSET', KEYS[2], from, held - moved)
              redis.call('HINCRBY', KEYS[2], to, moved)
            end
            return reply('transferred', moved)
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
