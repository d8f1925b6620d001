--[[
  After a granted job of a limited class settled (ARGV[6] its jid), or as a wake-up (ARGV[6] ''): free its slot,
  then move deferred jobs whose turn came on, oldest first. With a lease expiry (ARGV[8]) the oldest is handed
  straight to the caller: leased under its token and granted here, as a fetch and a check would, minus the round
  trips; the others go to the head of the ready list with a slot/start reserved.
  The slot is freed only if no other worker holds the job's lease now: a job whose lease expired and that another
  worker runs again keeps the slot for that worker. On a paused queue nothing is handed over: the deferred jobs go to
  the ready list, where the fetch passes them over until the queue is resumed. Invariants: store/limits.ts.
  KEYS[1] active hash  KEYS[2] ready list  KEYS[3] signal list  KEYS[4] running zset  KEYS[5] reserved zset
  KEYS[6] deferred list  KEYS[7] starts zset  KEYS[8] class state hash  KEYS[9] leases zset  KEYS[10] dedup hash
  KEYS[11] queue's parked hash  KEYS[12] queue's paused flag
  ARGV[1] now ms  ARGV[2] concurrency (0 = none)  ARGV[3] rate max (0 = none)  ARGV[4] rate window ms
  ARGV[5] reservation ms  ARGV[6] jid ('')  ARGV[7] token  ARGV[8] lease expiry ms for a hand-over (0 = none)
  Returns {jobs promoted or handed over, wake-up ms or 0, handed-over jid or '', its payload or ''}
]]
local L = { active = KEYS[1], ready = KEYS[2], signal = KEYS[3], running = KEYS[4], reserved = KEYS[5], deferred = KEYS[6],
            starts = KEYS[7], state = KEYS[8], now = tonumber(ARGV[1]), concurrency = tonumber(ARGV[2]),
            max = tonumber(ARGV[3]), per_ms = tonumber(ARGV[4]), reserve_ms = tonumber(ARGV[5]) }
local jid, token = ARGV[6], ARGV[7]
if jid ~= '' then
  local held = redis.call('HGET', L.active, jid)
  if not held or string.sub(held, 1, #token + 1) == token .. '|' then redis.call('ZREM', L.running, jid) end
end
limit_prune(L)

local handed_jid, handed_raw = '', ''
if ARGV[8] ~= '0' and redis.call('EXISTS', KEYS[12]) == 0 and redis.call('LLEN', L.deferred) > 0 and not limit_blocked(L, false) then
  local raw = redis.call('LINDEX', L.deferred, 0)
  local id, key = payload_ids(raw)
  -- A jid already in flight is left to the fetch, which leases such a payload under an id of its own.
  if id and redis.call('HEXISTS', L.active, id) == 0 then
    redis.call('LPOP', L.deferred)
    redis.call('HDEL', KEYS[11], id)
    handed_jid, handed_raw = id, cookie_on_lease(KEYS[10], raw, id, key, L.now)
    redis.call('ZADD', KEYS[9], ARGV[8], id)
    redis.call('HSET', L.active, id, token .. '|' .. handed_raw)
    if L.concurrency > 0 then redis.call('ZADD', L.running, L.now, id) end
    if L.max > 0 then redis.call('ZADD', L.starts, L.now, id .. '@' .. L.now) end
  end
end

local promoted = limit_promote(L) + (handed_jid ~= '' and 1 or 0)
return { promoted, limit_wake(L), handed_jid, handed_raw }
