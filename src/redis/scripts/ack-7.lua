--[[
  Finish jobs held under `token`: drop lease and payload, count them, settle until_executed cookies. With
  reschedule_once, a job that absorbed a twin while it ran is pushed once more, carrying the cookie's latest WAL,
  in the same step that hands the cookie to it: no twin can fall between "release" and "reschedule".
  KEYS[1] leases zset  KEYS[2] active hash  KEYS[3] stats hash  KEYS[4] dedup hash  KEYS[5] ready list
  KEYS[6] signal list  KEYS[7] this minute's counts hash (expires: dashboard history)
  ARGV[1] now ms  ARGV[2] token  ARGV[3] ms to keep the minute's counts
  ARGV[4] S = number of load-balancing strategies, then S pairs (strategy, count)
  to add to the stats hash as "lb:<strategy>"; then P = number of plain jobs and their P jids
  then per job with a cookie 5 values: jid, dedup key, reschedule jid (''), reschedule payload json without
  wal_locations (''), reschedule ttl ms
  Returns flat {acked 1|0, rescheduled jid or '', ...}: plain jobs first, then the others, each in input order
]]
local now, token = tonumber(ARGV[1]), ARGV[2]
local prefix = token .. '|'
local out, done = {}, 0

local function release(jid)
  local held = redis.call('HGET', KEYS[2], jid)
  if not held or string.sub(held, 1, #prefix) ~= prefix then return false end
  redis.call('HDEL', KEYS[2], jid)
  redis.call('ZREM', KEYS[1], jid)
  done = done + 1
  return true
end

local at = 5
for _ = 1, tonumber(ARGV[4]) do
  redis.call('HINCRBY', KEYS[3], 'lb:' .. ARGV[at], ARGV[at + 1])
  at = at + 2
end

local plain = tonumber(ARGV[at])
for i = at + 1, at + plain do
  out[#out + 1] = release(ARGV[i]) and 1 or 0
  out[#out + 1] = ''
end

for i = at + 1 + plain, #ARGV, 5 do
  local jid, key = ARGV[i], ARGV[i + 1]
  local acked, rescheduled = release(jid), ''
  local c = acked and cookie_get(KEYS[4], key, now)
  if c and c.owner == jid then
    if ARGV[i + 3] ~= '' and c.dx > 0 then
      rescheduled = ARGV[i + 2]
      local raw = ARGV[i + 3]
      if c.wal ~= '' then raw = wal_into_payload(raw, 'wal_locations', c.wal) end
      if redis.call('LPUSH', KEYS[5], raw) == 1 then wake_empty(KEYS[6]) end
      redis.call('HSET', KEYS[4], key, cookie_format({ strategy = c.strategy, owner = rescheduled, absorbed = 0, executing = '0', dx = 0, expires = now + tonumber(ARGV[i + 4]), wal = c.wal }))
      redis.call('HINCRBY', KEYS[3], 'rescheduled', 1)
    else
      redis.call('HDEL', KEYS[4], key)
    end
  end
  out[#out + 1] = acked and 1 or 0
  out[#out + 1] = rescheduled
end
if done > 0 then
  redis.call('HINCRBY', KEYS[3], 'processed', done)
  -- The first count of the minute creates the hash: give it its expiry then, once.
  if redis.call('HINCRBY', KEYS[7], 'processed', done) == done then redis.call('PEXPIRE', KEYS[7], ARGV[3]) end
end
return out
