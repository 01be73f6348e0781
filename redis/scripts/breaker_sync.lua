-- resilience: one sync of a shared circuit breaker with its fleet.
--
-- The one copy every driver loads (Rust resilience-redis, Python
-- resilience.redis, Node resilience-wasm/redis): SCRIPT LOAD once per
-- connection, EVALSHA per sync, EVAL with this text on NOSCRIPT. It takes
-- no decision: it adds this process's counts into Redis-time buckets,
-- publishes its transitions, hands out trial leases and returns what the
-- fleet looks like; the core (CircuitBreaker::apply_fleet) decides from that.
-- The contract is documented in redis/README.md ("The script's contract").
--
-- Keys (one hash tag per breaker, so a cluster keeps them in one slot),
-- base = <prefix>:cb:{<name>}:
--   KEYS[1] base:meta    hash: gen, bucket_us, buckets, closes
--   KEYS[2] base:window  hash: "<epoch>:c" | "<epoch>:f" | "<epoch>:s" -> count
--   KEYS[3] base:open    string (the instance that opened), PX = the fleet's break
--   KEYS[4] base:seq     hash: instance -> last batch counted
--   KEYS[5..] base:lease:0 .. base:lease:<half_open_max_calls - 1>
--                        string (the holding instance), PX = lease ttl
-- ARGV:
--   1 instance id        2 generation the caller last saw ("" if none)
--   3 bucket width (us; 0: no window)   4 buckets
--   5 key ttl (ms)       6 lease ttl (ms)     7 channel     8 breaker name
--   9 batch seq (0: no batch)   10 calls   11 failures   12 slow   13 batch age (us)
--   14 opened: break left of a new local opening (ms; 0: none)
--   15 closed: 1 if a local trial closed the breaker
--   16 local break left (ms; re-seeds the open key in a new generation)
--   17 leases wanted     18 seeding: 1 if 19.. carry the caller's window
--   19.. (age us, calls, failures, slow) per window bucket when seeding
-- Returns {generation, status, calls, failures, slow, open_ms, closes, leases, published}:
--   status 0: counted (or already counted: the batch's seq was seen)
--          2: seeded (a generation this caller had not seen: its window replaced its batch)
--          3: a generation this caller has not seen: nothing done, call again seeding
--   calls/failures/slow: the fleet window's totals; open_ms: the fleet's break left
--   (0: not open); closes: the fleet's close count; leases: the trial leases this
--   instance holds; published: 1 if this call published an open or a close.

local instance, known_gen = ARGV[1], ARGV[2]
local bucket_us, buckets = tonumber(ARGV[3]), tonumber(ARGV[4])
local key_ttl, lease_ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local channel, name = ARGV[7], ARGV[8]
local seq, age_us = tonumber(ARGV[9]), tonumber(ARGV[13])
local opened_ms, open_left_ms = tonumber(ARGV[14]), tonumber(ARGV[16])
local closed, want, seeding = ARGV[15] == '1', tonumber(ARGV[17]), ARGV[18] == '1'
if not (bucket_us and buckets and key_ttl and lease_ttl and seq and age_us
        and opened_ms and open_left_ms and want and tonumber(ARGV[10])
        and tonumber(ARGV[11]) and tonumber(ARGV[12])) or (#ARGV - 18) % 4 ~= 0 then
  return redis.error_reply('RESILIENCE malformed arguments')
end

-- Redis's clock is the fleet's common clock.
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])

-- The store generation: a new one whenever the meta key is gone (first use,
-- a restart, every process silent for longer than the key ttl).
local meta = redis.call('HMGET', KEYS[1], 'gen', 'bucket_us', 'buckets')
local gen = meta[1]
if not gen then
  gen = t[1] .. '-' .. t[2]
  redis.call('DEL', KEYS[2], KEYS[4])
  redis.call('HSET', KEYS[1], 'gen', gen, 'bucket_us', ARGV[3], 'buckets', ARGV[4], 'closes', 0)
elseif meta[2] ~= ARGV[3] or meta[3] ~= ARGV[4] then
  return redis.error_reply('RESILIENCE window mismatch: this breaker counts ' .. ARGV[4] .. ' buckets of '
    .. ARGV[3] .. ' us, the fleet ' .. tostring(meta[3]) .. ' of ' .. tostring(meta[2]))
end
if gen ~= known_gen and not seeding then
  return {gen, 3, 0, 0, 0, 0, 0, 0, 0}
end

local function fmt(n) return string.format('%.0f', n) end
local now_epoch = 0
if bucket_us > 0 then now_epoch = math.floor(now_us / bucket_us) end
local oldest = now_epoch - buckets -- epochs at or before this one are out of the window

-- Counts calls that ended `age` us ago into their Redis-time bucket.
local function add(age, calls, failures, slow)
  if bucket_us <= 0 or tonumber(calls) <= 0 then return end
  local epoch = math.floor((now_us - age) / bucket_us)
  if epoch > now_epoch then epoch = now_epoch end
  if epoch <= oldest then return end
  local at = fmt(epoch)
  redis.call('HINCRBY', KEYS[2], at .. ':c', calls)
  if tonumber(failures) > 0 then redis.call('HINCRBY', KEYS[2], at .. ':f', failures) end
  if tonumber(slow) > 0 then redis.call('HINCRBY', KEYS[2], at .. ':s', slow) end
end

local status = 0
if seeding then
  for i = 19, #ARGV, 4 do
    add(tonumber(ARGV[i]) or 0, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
  end
  if seq > 0 then redis.call('HSET', KEYS[4], instance, ARGV[9]) end
  status = 2
elseif seq > 0 then
  -- A batch is counted once, even when a sync that timed out is sent again.
  local last = tonumber(redis.call('HGET', KEYS[4], instance) or '0') or 0
  if seq > last then
    add(age_us, ARGV[10], ARGV[11], ARGV[12])
    redis.call('HSET', KEYS[4], instance, ARGV[9])
  end
end

local published = 0
local function clear_leases()
  for i = 5, #KEYS do redis.call('DEL', KEYS[i]) end
end
-- The first opening wins: the others' breaks align to it.
local function open_for(ms)
  if ms > 0 and redis.call('SET', KEYS[3], instance, 'PX', fmt(ms), 'NX') then
    redis.call('PUBLISH', channel, 'open:' .. instance .. ':' .. name)
    clear_leases()
    published = 1
  end
end
if opened_ms > 0 then
  open_for(opened_ms)
elseif seeding and open_left_ms > 0 then
  open_for(open_left_ms)
end
-- A close while the fleet is open again (another trial failed) is ignored: open wins.
if closed and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('HINCRBY', KEYS[1], 'closes', 1)
  redis.call('DEL', KEYS[2])
  clear_leases()
  redis.call('PUBLISH', channel, 'close:' .. instance .. ':' .. name)
  published = 1
end

-- Trial leases: none while the fleet is open; keep (renew) or free ours,
-- then take free slots up to what is wanted.
if redis.call('EXISTS', KEYS[3]) == 1 then want = 0 end
local held = 0
for i = 5, #KEYS do
  if redis.call('GET', KEYS[i]) == instance then
    if held < want then
      redis.call('PEXPIRE', KEYS[i], fmt(lease_ttl))
      held = held + 1
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
for i = 5, #KEYS do
  if held >= want then break end
  if redis.call('SET', KEYS[i], instance, 'PX', fmt(lease_ttl), 'NX') then held = held + 1 end
end

-- The fleet window: sum the live buckets, drop the expired ones.
local calls, failures, slow = 0, 0, 0
if bucket_us > 0 then
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    local field = all[i]
    local sep = string.find(field, ':', 1, true)
    local epoch = sep and tonumber(string.sub(field, 1, sep - 1))
    if not epoch or epoch <= oldest then
      redis.call('HDEL', KEYS[2], field)
    else
      local n, kind = tonumber(all[i + 1]) or 0, string.sub(field, sep + 1)
      if kind == 'c' then calls = calls + n
      elseif kind == 'f' then failures = failures + n
      elseif kind == 's' then slow = slow + n end
    end
  end
  redis.call('PEXPIRE', KEYS[2], fmt(key_ttl))
end
redis.call('PEXPIRE', KEYS[1], fmt(key_ttl))
redis.call('PEXPIRE', KEYS[4], fmt(key_ttl))

local open_ms = redis.call('PTTL', KEYS[3])
if open_ms < 0 then open_ms = 0 end
local closes = tonumber(redis.call('HGET', KEYS[1], 'closes')) or 0
return {gen, status, calls, failures, slow, open_ms, closes, held, published}
