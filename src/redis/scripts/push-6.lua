--[[
  Push one job, deduplicating against the queue's cookie when a key is given. Check and push are one step, so
  concurrent twins can never both create a job, and an absorbed twin's WAL positions are never lost.
  KEYS[1] ready list  KEYS[2] schedule zset  KEYS[3] jobs hash  KEYS[4] signal list
  KEYS[5] dedup hash  KEYS[6] stats hash
  ARGV[1] payload json (an object)  ARGV[2] jid  ARGV[3] now ms  ARGV[4] run-at ms (0 = now)
  ARGV[5] dedup key ('' = no dedup)
  ARGV[6] options, one letter each: strategy E|D, idempotent 1|0, preserve latest WAL 1|0 (e.g. "E11")
  ARGV[7] ttl ms  ARGV[8] this enqueue's WAL "db=lsn,..."
  Returns 1 pushed | "1|<owner>" pushed with duplicate-of (not idempotent) | "0|<owner>|<raised dbs a,b>" absorbed
  (an integer in the common case: the client decodes it for less than an array)
]]
local raw, jid, now, run_at = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local key = ARGV[5]
-- Options come packed in one argument: Redis pays for every argument it takes in.
local options = ARGV[6]
local strategy, idempotent, preserve_wal = string.sub(options, 1, 1), string.sub(options, 2, 2), string.sub(options, 3, 3)

local function push(payload)
  if run_at > now then
    redis.call('ZADD', KEYS[2], run_at, jid)
    redis.call('HSET', KEYS[3], jid, payload)
  else
    if redis.call('LPUSH', KEYS[1], payload) == 1 then wake_empty(KEYS[4]) end
  end
end

if key == '' then
  push(raw)
  return 1
end

local c = cookie_get(KEYS[5], key, now)
if not c then
  redis.call('HSET', KEYS[5], key, cookie_format({ strategy = strategy, owner = jid, absorbed = 0, executing = '0', dx = 0, expires = now + tonumber(ARGV[7]), wal = ARGV[8] }))
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
redis.call('HSET', KEYS[5], key, cookie_format(c))
redis.call('HINCRBY', KEYS[6], 'deduplicated', 1)
return '0|' .. c.owner .. '|' .. table.concat(raised, ',')
