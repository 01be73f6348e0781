-- resilience: one lease of a shared rate limiter from its fleet's GCRA.
--
-- The one copy every driver loads (Rust resilience-redis, Python
-- resilience.redis, Node resilience-wasm/redis): SCRIPT LOAD once per
-- connection, EVALSHA per sync, EVAL with this text on NOSCRIPT. It grants
-- what the fleet's GCRA allows (as redis-cell would for n cells, but
-- granting fewer when not all conform) and registers the caller as a live
-- process; the core (RateLimiter's Leased hooks) decides every call from
-- the tokens granted. The contract is documented in redis/README.md
-- ("The lease scripts' contract").
--
-- Keys (one hash tag per limiter), base = <prefix>:rl:{<name>}:
--   KEYS[1] base:gcra   hash: tat (us, Redis time), interval_ns, burst
--   KEYS[2] base:procs  sorted set: instance -> last sync (ms, Redis time)
-- ARGV:
--   1 instance id   2 tokens wanted   3 key ttl (ms)   4 process window (ms)
--   5 emission interval (ns)   6 burst
-- Returns {granted, wait_us, available, processes}:
--   granted: cells leased (0..wanted); wait_us: until one more cell conforms;
--   available: cells the fleet could still grant now; processes: instances
--   that synced within the process window (this one included).
-- A fleet whose limiter has another rate or burst refuses the call
-- ("RESILIENCE limiter mismatch"): that process stays local.

local instance = ARGV[1]
local want, key_ttl, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local interval_ns, burst = tonumber(ARGV[5]), tonumber(ARGV[6])
if not (want and key_ttl and window and interval_ns and burst) or interval_ns <= 0 or burst < 1 then
  return redis.error_reply('RESILIENCE malformed arguments')
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now / 1000)
local function fmt(n) return string.format('%.0f', n) end

local state = redis.call('HMGET', KEYS[1], 'tat', 'interval_ns', 'burst')
if state[2] and (state[2] ~= ARGV[5] or state[3] ~= ARGV[6]) then
  return redis.error_reply('RESILIENCE limiter mismatch: this limiter has an emission interval of '
    .. ARGV[5] .. ' ns and a burst of ' .. ARGV[6] .. ', the fleet ' .. tostring(state[2]) .. ' ns and '
    .. tostring(state[3]))
end

-- GCRA in microseconds of Redis time (fractions kept: T may be below 1 us).
-- A missing key (first use, a restart, every process silent for the key
-- ttl) is a limiter with its whole burst available.
local T = interval_ns / 1000
local tat = tonumber(state[1]) or now
local base = math.max(tat, now)
local room = math.floor((now + burst * T - base) / T + 1e-9)
if room < 0 then room = 0 end
local granted = math.min(want, room)
tat = base + granted * T
local ahead = tat - now
if ahead < 0 then ahead = 0 end
redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', tat), 'interval_ns', ARGV[5], 'burst', ARGV[6])
-- The state matters until the TAT has passed; the parameters a while longer.
redis.call('PEXPIRE', KEYS[1], fmt(math.ceil(ahead / 1000) + key_ttl))

-- One more cell conforms when tat + T <= now + burst * T.
local wait = tat + T - (now + burst * T)
if wait < 0 then wait = 0 end
local available = math.floor((now + burst * T - math.max(tat, now)) / T + 1e-9)
if available < 0 then available = 0 end

redis.call('ZADD', KEYS[2], now_ms, instance)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. fmt(now_ms - window))
redis.call('PEXPIRE', KEYS[2], fmt(window))
local processes = redis.call('ZCARD', KEYS[2])

return {granted, math.ceil(wait), available, processes}
