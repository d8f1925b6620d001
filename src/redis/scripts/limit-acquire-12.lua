--[[
  Before perform: grant a leased job of a limited worker class a slot and/or a start, or park it at the tail of the
  class's deferred list and release its lease, in one step (so a job is never both parked and leased). Deferred
  jobs whose turn came go first (FIFO per class): a fresh job never starts ahead of them. Invariants: store/limits.ts.
  KEYS[1] leases zset  KEYS[2] active hash  KEYS[3] dedup hash  KEYS[4] ready list  KEYS[5] signal list
  KEYS[6] queue's limits hash  KEYS[7] running zset  KEYS[8] reserved zset  KEYS[9] deferred list
  KEYS[10] starts zset  KEYS[11] class state hash  KEYS[12] queue's parked hash (jid → class, for the dedup reaper)
  ARGV[1] jid  ARGV[2] token  ARGV[3] now ms  ARGV[4] worker class  ARGV[5] concurrency (0 = none)
  ARGV[6] rate max (0 = none)  ARGV[7] rate window ms  ARGV[8] reservation ms  ARGV[9] until_executed dedup key ('')
  Returns {1 granted | 0 deferred by concurrency | 2 deferred by rate | -1 lease not held, wake-up ms or 0}
]]
local jid, token = ARGV[1], ARGV[2]
local held = redis.call('HGET', KEYS[2], jid)
if not held or string.sub(held, 1, #token + 1) ~= token .. '|' then return { -1, 0 } end
local L = { active = KEYS[2], ready = KEYS[4], signal = KEYS[5], running = KEYS[7], reserved = KEYS[8], deferred = KEYS[9],
            starts = KEYS[10], state = KEYS[11], now = tonumber(ARGV[3]), concurrency = tonumber(ARGV[5]),
            max = tonumber(ARGV[6]), per_ms = tonumber(ARGV[7]), reserve_ms = tonumber(ARGV[8]) }
redis.call('HSET', KEYS[6], ARGV[4], ARGV[5] .. '|' .. ARGV[6] .. '|' .. ARGV[7] .. '|' .. ARGV[3])
redis.call('HDEL', KEYS[12], jid)
limit_prune(L)
-- Read before promoting: the job's own reservation must still count while others are promoted.
local reserved = redis.call('ZSCORE', L.reserved, jid) ~= false
local holds = L.concurrency > 0 and redis.call('ZSCORE', L.running, jid) ~= false
limit_promote(L)
local reason = (not reserved) and limit_blocked(L, holds) or nil

if reason then
  redis.call('HDEL', KEYS[2], jid)
  redis.call('ZREM', KEYS[1], jid)
  redis.call('RPUSH', L.deferred, string.sub(held, #token + 2))
  redis.call('HINCRBY', L.state, 'deferred', 1)
  redis.call('HSET', KEYS[12], jid, ARGV[4])
  if ARGV[9] ~= '' then
    local c = cookie_get(KEYS[3], ARGV[9], L.now)
    if c and c.owner == jid then
      c.executing, c.dx = '0', 0
      redis.call('HSET', KEYS[3], ARGV[9], cookie_format(c))
    end
  end
  if holds then
    redis.call('ZREM', L.running, jid)
    limit_promote(L)
  end
  return { reason == 'rate' and 2 or 0, limit_wake(L) }
end

redis.call('ZREM', L.reserved, jid)
if L.concurrency > 0 then redis.call('ZADD', L.running, L.now, jid) end
if L.max > 0 then redis.call('ZADD', L.starts, L.now, jid .. '@' .. L.now) end
return { 1, limit_wake(L) }
