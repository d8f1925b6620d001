--[[
  Push one job, deduplicating against the queue's cookie when a key is given. Check and push are one step, so
  concurrent twins can never both create a job, and an absorbed twin's WAL positions are never lost.
  KEYS[1] dedup hash  KEYS[2] stats hash
  KEYS[3], KEYS[4] where the job goes: the ready list and signal list when it is due now, the schedule zset and
  jobs hash when it is due later (run-at > now)
  ARGV[1] payload json (an object)  ARGV[2] jid  ARGV[3] now ms  ARGV[4] run-at ms (0 = now)
  ARGV[5] dedup key ('' = no dedup)
  ARGV[6] options, one letter each: strategy E|D, idempotent 1|0, preserve latest WAL 1|0 (e.g. "E11")
  ARGV[7] ttl ms  ARGV[8] this enqueue's WAL "db=lsn,..."
  Returns 1 pushed | "1|<owner>" pushed with duplicate-of (not idempotent) | "0|<owner>|<raised dbs a,b>" absorbed
  (an integer in the common case: the client decodes it for less than an array)
]]
local raw, jid, now, run_at = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local key = ARGV[5]

local function push(payload)
  if run_at > now then
    redis.call('ZADD', KEYS[3], run_at, jid)
    redis.call('HSET', KEYS[4], jid, payload)
  elseif redis.call('LPUSH', KEYS[3], payload) == 1 then
    wake_empty(KEYS[4])
  end
end

if key == '' then
  push(raw)
  return 1
end

-- Options come packed in one argument: Redis pays for every argument it takes in.
local options = ARGV[6]
local strategy, idempotent, preserve_wal = string.sub(options, 1, 1), string.sub(options, 2, 2), string.sub(options, 3, 3)
local fresh = cookie_format({ strategy = strategy, owner = jid, absorbed = 0, executing = '0', dx = 0, expires = now + tonumber(ARGV[7]), wal = ARGV[8] })

-- Claim the key first: a new key costs one command instead of a read and a write; a twin pays one more.
if redis.call('HSETNX', KEYS[1], key, fresh) == 1 then
  push(raw)
  return 1
end
local c = cookie_get(KEYS[1], key, now)
if not c then
  -- The cookie there had expired (cookie_get removed it).
  redis.call('HSET', KEYS[1], key, fresh)
  push(raw)
  return 1
end

if idempotent ~= '1' then
  push('{"duplicate-of":"' .. c.owner .. '",' .. string.sub(raw, 2))
  return '1|' .. c.owner
end

c.absorbed = c.absorbed + 1
if c.executing == '1' then c.dx = c.dx + 1 end
local raised = {}
if preserve_wal == '1' and ARGV[8] ~= '' then c.wal, raised = wal_merge(c.wal, ARGV[8]) end
-- The rewrite copies the expiry unchanged, so a stream of twins never extends it.
redis.call('HSET', KEYS[1], key, cookie_format(c))
redis.call('HINCRBY', KEYS[2], 'deduplicated', 1)
return '0|' .. c.owner .. '|' .. table.concat(raised, ',')
