--[[
  Shared helpers, prepended to every script by redis/scripts.ts.

  Dedup cookie: one field of the queue's dedup hash, value (also built and read by redis/dedup-cookie.ts)
    "<strategy E|D>|<owner jid>|<absorbed>|<executing 0|1>|<absorbed while executing>|<expires at ms>|<wal>"
  where <wal> is "db=HI/LO,db=HI/LO" (may be empty). A string, not cmsgpack: an empty map must stay a map.
  The expiry is set when the cookie is created and copied unchanged by every rewrite, so twins never extend it.
]]
local function cookie_parse(s)
  local strategy, owner, absorbed, executing, dx, expires, wal = string.match(s, '^(%a)|([^|]*)|(%d+)|([01])|(%d+)|(%d+)|(.*)$')
  if not strategy then return nil end
  return { strategy = strategy, owner = owner, absorbed = tonumber(absorbed), executing = executing,
           dx = tonumber(dx), expires = expires, wal = wal }
end

local function cookie_format(c)
  return c.strategy .. '|' .. c.owner .. '|' .. c.absorbed .. '|' .. c.executing .. '|' .. c.dx .. '|' .. c.expires .. '|' .. c.wal
end

-- Returns the live cookie or nil; an expired (or unreadable) one is deleted on sight, so TTL is exact without
-- a sweeper. Expiry is compared as a number of ms: 13 digits, exact in a Lua double.
local function cookie_get(dedup_key, field, now)
  local s = redis.call('HGET', dedup_key, field)
  if not s then return nil end
  local c = cookie_parse(s)
  if not c or tonumber(c.expires) <= now then
    redis.call('HDEL', dedup_key, field)
    return nil
  end
  return c
end

-- LSN "HI/LO" → hi, lo as numbers (each < 2^32, exact in a Lua double), or nil when malformed.
local function lsn_parse(s)
  local hi, lo = string.match(s, '^(%x+)/(%x+)$')
  if not hi or #hi > 8 or #lo > 8 then return nil end
  return tonumber(hi, 16), tonumber(lo, 16)
end

-- The later of two LSNs, comparing the 32-bit halves (never the strings). A malformed side wins as the
-- literal "invalid" so the job falls back to the primary instead of trusting a position we cannot read.
local function lsn_max(a, b)
  local ahi, alo = lsn_parse(a)
  local bhi, blo = lsn_parse(b)
  if not ahi or not bhi then return 'invalid' end
  if bhi > ahi or (bhi == ahi and blo > alo) then return b end
  return a
end

-- Merge "db=lsn,..." lists taking the max per database; returns merged list and the databases it raised.
local function wal_merge(stored, incoming)
  local order, values = {}, {}
  for db, lsn in string.gmatch(stored, '([^,=]+)=([^,]*)') do
    order[#order + 1] = db
    values[db] = lsn
  end
  local raised = {}
  for db, lsn in string.gmatch(incoming, '([^,=]+)=([^,]*)') do
    local old = values[db]
    local new = old and lsn_max(old, lsn) or lsn
    if not old then order[#order + 1] = db end
    if new ~= old then
      values[db] = new
      raised[#raised + 1] = db
    end
  end
  local parts = {}
  for i, db in ipairs(order) do parts[i] = db .. '=' .. values[db] end
  return table.concat(parts, ','), raised
end

-- Leave one wake-up token for a blocked worker unless one is already waiting. On Redis Cluster the signal is a
-- sharded pub/sub channel in the queue's slot (its name ends in ':pub', see redis/keys.ts PUBLISHED_SIGNAL_SUFFIX):
-- an SPUBLISH, delivered by this master to the subscribers connected to it (a PUBLISH would cross the cluster bus
-- and wake every node for every message); every process waiting on the queue wakes. A message lost meanwhile is
-- covered by the waits' timeouts.
local function wake_empty(signal_key)
  if string.sub(signal_key, -4) == ':pub' then
    redis.call('SPUBLISH', signal_key, '1')
  elseif redis.call('LLEN', signal_key) == 0 then
    redis.call('LPUSH', signal_key, '1')
  end
end

-- After a step that may leave jobs in the ready list. A push only wakes when the list was empty before it: while
-- the list holds jobs, a token is waiting or the worker that took it is about to fetch, and that fetch calls wake.
-- (A worker that dies in between is covered by the wait timeout of the others.)
local function wake(ready_key, signal_key)
  if redis.call('LLEN', ready_key) > 0 then wake_empty(signal_key) end
end

-- Append "field":{"db":"lsn",...} to a JSON object payload. Database names and LSNs never need escaping.
local function wal_into_payload(raw, field, wal)
  local parts = {}
  for db, lsn in string.gmatch(wal, '([^,=]+)=([^,]*)') do parts[#parts + 1] = '"' .. db .. '":"' .. lsn .. '"' end
  return string.sub(raw, 1, -2) .. ',"' .. field .. '":{' .. table.concat(parts, ',') .. '}}'
end

-- lagless's encoder writes "jid" first and "idempotency_key" second, so its own payloads are read by prefix.
-- Any other JSON is decoded, so a "jid" nested in args or spaces after a colon can never mislead us.
-- Returns jid (nil when the payload has no string jid) and idempotency key (nil when none).
local function payload_ids(raw)
  local jid, rest = string.match(raw, '^{"jid":"([^"\\]+)"(.?)')
  if jid then
    return jid, (rest == ',' and string.match(raw, '^{"jid":"[^"\\]+","idempotency_key":"([%w_-]+)"') or nil)
  end
  local ok, job = pcall(cjson.decode, raw)
  if not ok or type(job) ~= 'table' then return nil, nil end
  local key = job.idempotency_key
  if type(key) ~= 'string' or not string.match(key, '^[%w_-]+$') then key = nil end
  if type(job.jid) ~= 'string' or job.jid == '' then return nil, key end
  return job.jid, key
end

-- Put a payload where a push sends it: the ready list (waking a blocked worker) when run_at is nil, else the
-- schedule (by jid) and jobs hash.
local function push_payload(k_at, k_wake, payload, run_at, jid)
  if run_at then
    redis.call('ZADD', k_at, run_at, jid)
    redis.call('HSET', k_wake, jid, payload)
  elseif redis.call('LPUSH', k_at, payload) == 1 then
    wake_empty(k_wake)
  end
end

-- The live cookie of `key` as this push-many call left it (see push_job), or nil.
local function memo_cookie(memo, key, now)
  local c = memo.cookies[key]
  if type(c) == 'string' then c = cookie_parse(c) end
  if c and tonumber(c.expires) > tonumber(now) then return c end
  return nil
end

-- Push one job, deduplicating against the queue's cookie when a key is given: the body of push-4.lua (its
-- header says what the arguments and the reply are), shared with push-many-4.lua.
-- `memo` (push-many only) folds the twins of one call: it holds each key's live cookie as this call left it (the
-- string a new key was created with, parsed only if a twin comes), so a twin after the first reads no cookie and
-- writes none; the caller writes each changed cookie once at the end (memo.dirty) and adds memo.absorbed to the
-- stats. Without it every twin reads and rewrites the cookie itself.
local function push_job(k_dedup, k_stats, k_at, k_wake, raw, key, fresh, now, options, run_at, jid, memo)
  if key == '' then
    push_payload(k_at, k_wake, raw, run_at, jid)
    return 1
  end
  local c = memo and memo_cookie(memo, key, now)
  if not c then
    -- Claim the key first: a new key costs one command instead of a read and a write; a twin pays one more.
    if redis.call('HSETNX', k_dedup, key, fresh) == 1 then
      push_payload(k_at, k_wake, raw, run_at, jid)
      if memo then memo.cookies[key] = fresh end
      return 1
    end
    c = cookie_get(k_dedup, key, tonumber(now))
    if not c then
      -- The cookie there had expired (cookie_get removed it), or this call's own had.
      redis.call('HSET', k_dedup, key, fresh)
      push_payload(k_at, k_wake, raw, run_at, jid)
      if memo then
        memo.cookies[key] = fresh
        memo.dirty[key] = nil
      end
      return 1
    end
  end
  if string.sub(options, 1, 1) ~= '1' then
    push_payload(k_at, k_wake, '{"duplicate-of":"' .. c.owner .. '",' .. string.sub(raw, 2), run_at, jid)
    if memo then memo.cookies[key] = c end
    return '1|' .. c.owner
  end
  c.absorbed = c.absorbed + 1
  if c.executing == '1' then c.dx = c.dx + 1 end
  local raised = {}
  if string.sub(options, 2, 2) == '1' then
    local wal = string.match(fresh, '[^|]*$')
    if wal ~= '' then c.wal, raised = wal_merge(c.wal, wal) end
  end
  local reply = '0|' .. c.owner .. '|' .. table.concat(raised, ',')
  if memo then
    memo.cookies[key] = c
    memo.dirty[key] = c
    memo.absorbed = memo.absorbed + 1
    return reply
  end
  -- The rewrite copies the expiry unchanged, so a stream of twins never extends it.
  redis.call('HSET', k_dedup, key, cookie_format(c))
  redis.call('HINCRBY', k_stats, 'deduplicated', 1)
  return reply
end

-- Concurrency and rate limits (limit-*.lua; the invariants are in store/limits.ts). L holds the class's keys
-- (active, ready, signal, running, reserved, deferred, starts, state) and now, concurrency, max, per_ms, reserve_ms
-- as numbers (0 = no such limit).
local function limit_prune(L)
  redis.call('ZREMRANGEBYSCORE', L.reserved, '-inf', L.now - L.reserve_ms)
  if L.max > 0 then redis.call('ZREMRANGEBYSCORE', L.starts, '-inf', L.now - L.per_ms) end
end

-- Slots taken: granted jobs + reservations. Members whose lease is gone are dropped only when the raw count says
-- full, at most once a second (state field scan): until then they count, which errs on the safe side.
local function limit_slots_used(L)
  local used = redis.call('ZCARD', L.running) + redis.call('ZCARD', L.reserved)
  if used < L.concurrency then return used end
  if L.now - tonumber(redis.call('HGET', L.state, 'scan') or '0') < 1000 then return used end
  redis.call('HSET', L.state, 'scan', L.now)
  for _, jid in ipairs(redis.call('ZRANGE', L.running, 0, -1)) do
    if redis.call('HEXISTS', L.active, jid) == 0 then
      redis.call('ZREM', L.running, jid)
      used = used - 1
    end
  end
  return used
end

-- 'concurrency' | 'rate' | nil: what keeps one more job from starting now (a slot holder needs only a start).
local function limit_blocked(L, holds_slot)
  if L.concurrency > 0 and not holds_slot and limit_slots_used(L) >= L.concurrency then return 'concurrency' end
  if L.max > 0 and redis.call('ZCARD', L.starts) + redis.call('ZCARD', L.reserved) >= L.max then return 'rate' end
  return nil
end

-- Move deferred jobs, oldest first, to the head of the ready list while a slot and a start are free, reserving
-- them; pushed newest first so the oldest is fetched first.
local function limit_promote(L)
  local moved = {}
  while redis.call('LLEN', L.deferred) > 0 and not limit_blocked(L, false) do
    local raw = redis.call('LPOP', L.deferred)
    redis.call('ZADD', L.reserved, L.now, payload_ids(raw) or '')
    moved[#moved + 1] = raw
  end
  for i = #moved, 1, -1 do redis.call('RPUSH', L.ready, moved[i]) end
  if #moved > 0 then wake(L.ready, L.signal) end
  return #moved
end

-- When the rate limit next lets a deferred job start, if the caller is to wake up for it then (0 = no wake-up:
-- nothing deferred, or only the concurrency limit holds them, which a release lifts). One claim per class at a
-- time; a claim whose time has passed (its process died) is taken over.
local function limit_wake(L)
  if L.max == 0 or redis.call('LLEN', L.deferred) == 0 then return 0 end
  if redis.call('ZCARD', L.starts) + redis.call('ZCARD', L.reserved) < L.max then return 0 end
  local at = L.now + L.per_ms
  local first = redis.call('ZRANGE', L.starts, 0, 0, 'WITHSCORES')
  if first[2] then at = tonumber(first[2]) + L.per_ms end
  local reserved = redis.call('ZRANGE', L.reserved, 0, 0, 'WITHSCORES')
  if reserved[2] then at = math.min(at, tonumber(reserved[2]) + L.reserve_ms) end
  local claimed = tonumber(redis.call('HGET', L.state, 'wake') or '0')
  if claimed > L.now and claimed <= at then return 0 end
  redis.call('HSET', L.state, 'wake', at)
  return at
end

-- What leasing a job does to its dedup cookie, in the fetch and for a deferred job handed straight to a worker:
-- the payload gets the cookie's latest WAL as dedup_wal_locations; until_executing releases the cookie,
-- until_executed marks it executing. Returns the payload to hand out.
local function cookie_on_lease(dedup_key, raw, jid, key, now)
  if not key then return raw end
  local c = cookie_get(dedup_key, key, now)
  if not c or c.owner ~= jid then return raw end
  if c.wal ~= '' then raw = wal_into_payload(string.gsub(raw, ',"dedup_wal_locations":{[^}]*}', ''), 'dedup_wal_locations', c.wal) end
  if c.strategy == 'E' then
    redis.call('HDEL', dedup_key, key)
  else
    c.executing, c.dx = '1', 0
    redis.call('HSET', dedup_key, key, cookie_format(c))
  end
  return raw
end
