-- resilience: one sync of a shared retry budget with its fleet's budget.
--
-- The one copy every driver loads (Rust resilience-redis, Python
-- resilience.redis, Node resilience-wasm/redis): SCRIPT LOAD once per
-- connection, EVALSHA per sync, EVAL with this text on NOSCRIPT. It counts
-- this process's first attempts into Redis-time tenths of the ttl, grants
-- retries from what the fleet has earned — the core's formula, in the
-- core's units: over the last ttl (the current tenth and the nine before),
-- retries <= (min_retries_per_sec * ttl * 1e6 + per_deposit * deposits) / 1e6,
-- per_deposit being retry_ratio in millionths — and counts what it grants
-- as withdrawn. The core (RetryBudget's Leased hooks) decides every retry
-- from the retries granted. The contract is documented in redis/README.md
-- ("The lease scripts' contract").
--
-- Keys (one hash tag per budget), base = <prefix>:rb:{<name>}:
--   KEYS[1] base:meta    hash: ttl_us, per_deposit, floor
--   KEYS[2] base:window  hash: "<epoch>:d" | "<epoch>:w" -> deposits | withdrawals
--   KEYS[3] base:seq     hash: instance -> last deposit batch counted
--   KEYS[4] base:procs   sorted set: instance -> last sync (ms, Redis time)
-- ARGV:
--   1 instance id   2 retries wanted   3 key ttl (ms)   4 process window (ms)
--   5 ttl (us)   6 per_deposit (millionths of a retry)   7 min_retries_per_sec
--   8 batch seq (0: no batch)   9 deposits   10 batch age (us)
-- Returns {granted, -1, available, processes}: granted retries (0..wanted),
--   -1 (no wait can be told), retries the fleet could still grant,
--   instances that synced within the process window.
-- A fleet whose budget has other parameters refuses the call
-- ("RESILIENCE budget mismatch"): that process stays local.

local instance = ARGV[1]
local want, key_ttl, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ttl_us, per_deposit, floor = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local seq, deposits, age = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
if not (want and key_ttl and window and ttl_us and per_deposit and floor and seq and deposits and age)
    or ttl_us < 10 then
  return redis.error_reply('RESILIENCE malformed arguments')
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now / 1000)
local function fmt(n) return string.format('%.0f', n) end

local meta = redis.call('HMGET', KEYS[1], 'ttl_us', 'per_deposit', 'floor')
if meta[1] and (meta[1] ~= ARGV[5] or meta[2] ~= ARGV[6] or meta[3] ~= ARGV[7]) then
  return redis.error_reply('RESILIENCE budget mismatch: this budget has a ttl of ' .. ARGV[5]
    .. ' us, ' .. ARGV[6] .. ' millionths per first attempt and a floor of ' .. ARGV[7]
    .. ' per second, the fleet ' .. tostring(meta[1]) .. ', ' .. tostring(meta[2]) .. ' and ' .. tostring(meta[3]))
end
redis.call('HSET', KEYS[1], 'ttl_us', ARGV[5], 'per_deposit', ARGV[6], 'floor', ARGV[7])

-- Tenths of the ttl, on Redis's clock (the core's width: ttl / 10, rounded down).
local width = math.floor(ttl_us / 10)
local epoch = math.floor(now / width)
local oldest = epoch - 9

-- A batch of deposits is counted once, in the tenth it was taken in, even
-- when a sync that timed out is sent again.
if seq > 0 and deposits > 0 then
  local last = tonumber(redis.call('HGET', KEYS[3], instance) or '0') or 0
  if seq > last then
    local at = math.floor((now - age) / width)
    if at > epoch then at = epoch end
    if at >= oldest then redis.call('HINCRBY', KEYS[2], fmt(at) .. ':d', deposits) end
    redis.call('HSET', KEYS[3], instance, ARGV[8])
  end
end

-- The window's totals; expired tenths are dropped.
local earned, spent = 0, 0
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local field = all[i]
  local sep = string.find(field, ':', 1, true)
  local e = sep and tonumber(string.sub(field, 1, sep - 1))
  if not e or e < oldest then
    redis.call('HDEL', KEYS[2], field)
  else
    local n, kind = tonumber(all[i + 1]) or 0, string.sub(field, sep + 1)
    if kind == 'd' then earned = earned + n elseif kind == 'w' then spent = spent + n end
  end
end

-- The core's formula (RetryBudget::allowed), in millionths of a retry.
local allowed = math.floor((floor * ttl_us + per_deposit * earned) / 1000000)
local available = allowed - spent
if available < 0 then available = 0 end
local granted = math.min(want, available)
if granted > 0 then redis.call('HINCRBY', KEYS[2], fmt(epoch) .. ':w', granted) end

for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], fmt(key_ttl)) end
redis.call('ZADD', KEYS[4], now_ms, instance)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. fmt(now_ms - window))
redis.call('PEXPIRE', KEYS[4], fmt(window))
local processes = redis.call('ZCARD', KEYS[4])

return {granted, -1, available - granted, processes}
