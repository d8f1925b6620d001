--[[
  Periodic queue upkeep, run by at most one process at a time (the lock): promote due scheduled and retry jobs,
  put jobs whose lease expired (their worker died) back at the head of the ready list, cap the dead set.
  One step moves at most ARGV[4] jobs per set, so it never holds Redis long; the caller runs the next step at
  once while a step comes back full (server/maintenance.ts).
  KEYS[1] ready list  KEYS[2] schedule zset  KEYS[3] retry zset  KEYS[4] dead zset  KEYS[5] jobs hash
  KEYS[6] leases zset  KEYS[7] active hash  KEYS[8] signal list  KEYS[9] lock
  ARGV[1] token  ARGV[2] now ms  ARGV[3] lock ms  ARGV[4] max jobs per step  ARGV[5] dead max size
  ARGV[6] dead max age ms  ARGV[7] ready cap: promote only while the ready list holds fewer jobs (empty: no cap)
  Returns {promoted, recovered, trimmed, next due} | false when another process holds the lock; next due is the
  score of the earliest job still scheduled or retrying (ms), or -1 when there is none
]]
local token, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4])
-- The lock holds "<token>|<expires at>" judged by the callers' clock (the one leases use); PX only cleans up.
local held = redis.call('GET', KEYS[9])
if held then
  local owner, expires = string.match(held, '^(.*)|(%d+)$')
  if owner ~= token and tonumber(expires) > now then return false end
end
redis.call('SET', KEYS[9], token .. '|' .. (now + tonumber(ARGV[3])), 'PX', ARGV[3])

-- Batched calls (one HMGET, LPUSH, HDEL and ZREM per set) keep a full step of `limit` jobs to a few ms.
local promoted = 0
local cap = tonumber(ARGV[7])
local room = cap and math.max(0, cap - redis.call('LLEN', KEYS[1])) or limit
for _, set in ipairs({ KEYS[2], KEYS[3] }) do
  local due = room > 0 and redis.call('ZRANGEBYSCORE', set, '-inf', now, 'LIMIT', 0, math.min(limit, room)) or {}
  if #due > 0 then
    local raws = redis.call('HMGET', KEYS[5], unpack(due))
    local present = {}
    for i = 1, #due do
      if raws[i] then present[#present + 1] = raws[i] end
    end
    if #present > 0 then redis.call('LPUSH', KEYS[1], unpack(present)) end
    redis.call('HDEL', KEYS[5], unpack(due))
    redis.call('ZREM', set, unpack(due))
    promoted = promoted + #due
    if cap then room = room - #due end
  end
end

local recovered = 0
for _, jid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, limit)) do
  local held = redis.call('HGET', KEYS[7], jid)
  if held then
    redis.call('RPUSH', KEYS[1], string.sub(held, string.find(held, '|', 1, true) + 1))
    redis.call('HDEL', KEYS[7], jid)
    recovered = recovered + 1
  end
  redis.call('ZREM', KEYS[6], jid)
end

local trimmed = {}
for _, jid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[6]), 'LIMIT', 0, limit)) do
  trimmed[#trimmed + 1] = jid
end
local excess = redis.call('ZCARD', KEYS[4]) - #trimmed - tonumber(ARGV[5])
if excess > 0 then
  for _, jid in ipairs(redis.call('ZRANGE', KEYS[4], #trimmed, #trimmed + math.min(excess, limit) - 1)) do
    trimmed[#trimmed + 1] = jid
  end
end
for _, jid in ipairs(trimmed) do
  redis.call('ZREM', KEYS[4], jid)
  redis.call('HDEL', KEYS[5], jid)
end

wake(KEYS[1], KEYS[8])
-- Scores stay strings: a Lua number would come back truncated to an integer reply anyway, and strings are exact.
local next_due = -1
for _, set in ipairs({ KEYS[2], KEYS[3] }) do
  local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
  if first[2] and (next_due == -1 or tonumber(first[2]) < tonumber(next_due)) then next_due = first[2] end
end
return { promoted, recovered, #trimmed, next_due }
