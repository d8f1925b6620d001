--[[
  Push one job, deduplicating against the queue's cookie when a key is given. Check and push are one step, so
  concurrent twins can never both create a job, and an absorbed twin's WAL positions are never lost.
  KEYS[1] dedup hash  KEYS[2] stats hash
  KEYS[3], KEYS[4] where the job goes: the ready list and signal list when it is due now, the schedule zset and
  jobs hash when it is due later
  ARGV[1] payload json (an object)  ARGV[2] dedup key ('' = no dedup)
  ARGV[3] the cookie this job owns if it is new, built by the client (dedup-cookie.ts); its last field is this
  enqueue's WAL "db=lsn,..."
  ARGV[4] now ms  ARGV[5] options, one letter each: idempotent 1|0, preserve latest WAL 1|0 (e.g. "11")
  ARGV[6] run-at ms, ARGV[7] jid: only for a job due later (the schedule holds jids)
  Returns 1 pushed | "1|<owner>" pushed with duplicate-of (not idempotent) | "0|<owner>|<raised dbs a,b>" absorbed
  (an integer in the common case: the client decodes it for less than an array)
  Redis pays for every argument and every number formatted here, so the hot paths (a new key, a twin) take the
  fewest that still decide them.
]]
local raw, key = ARGV[1], ARGV[2]

local function push(payload)
  if ARGV[6] then
    redis.call('ZADD', KEYS[3], ARGV[6], ARGV[7])
    redis.call('HSET', KEYS[4], ARGV[7], payload)
  elseif redis.call('LPUSH', KEYS[3], payload) == 1 then
    wake_empty(KEYS[4])
  end
end

if key == '' then
  push(raw)
  return 1
end

-- Claim the key first: a new key costs one command instead of a read and a write; a twin pays one more.
local fresh = ARGV[3]
if redis.call('HSETNX', KEYS[1], key, fresh) == 1 then
  push(raw)
  return 1
end
local c = cookie_get(KEYS[1], key, tonumber(ARGV[4]))
if not c then
  -- The cookie there had expired (cookie_get removed it).
  redis.call('HSET', KEYS[1], key, fresh)
  push(raw)
  return 1
end

local options = ARGV[5]
if string.sub(options, 1, 1) ~= '1' then
  push('{"duplicate-of":"' .. c.owner .. '",' .. string.sub(raw, 2))
  return '1|' .. c.owner
end

c.absorbed = c.absorbed + 1
if c.executing == '1' then c.dx = c.dx + 1 end
local raised = {}
if string.sub(options, 2, 2) == '1' then
  local wal = string.match(fresh, '[^|]*$')
  if wal ~= '' then c.wal, raised = wal_merge(c.wal, wal) end
end
-- The rewrite copies the expiry unchanged, so a stream of twins never extends it.
redis.call('HSET', KEYS[1], key, cookie_format(c))
redis.call('HINCRBY', KEYS[2], 'deduplicated', 1)
return '0|' .. c.owner .. '|' .. table.concat(raised, ',')
