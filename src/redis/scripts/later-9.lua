--[[
  Move a job held under `token` to the schedule (snooze), retry or dead set with its updated payload.
  until_executed cookies: a job going to retry keeps its cookie (and keeps absorbing twins, which the retry
  covers); a job going to the dead set releases it. Twins it absorbed never had a successful run: their count is
  returned, and with a reschedule payload (reschedule_once) that job is pushed once for them, owning the cookie.
  KEYS[1] leases zset  KEYS[2] active hash  KEYS[3] target zset (schedule | retry | dead)  KEYS[4] jobs hash
  KEYS[5] dedup hash  KEYS[6] stats hash  KEYS[7] ready list  KEYS[8] signal list
  KEYS[9] this minute's counts hash (expires: dashboard history)
  ARGV[1] jid  ARGV[2] token  ARGV[3] payload json  ARGV[4] score ms  ARGV[5] kind snooze|retry|dead
  ARGV[6] dedup key ('')  ARGV[7] now ms  ARGV[8] load-balancing strategy to count ('' = none)
  ARGV[9] reschedule jid ('' = none)  ARGV[10] reschedule payload json without wal_locations  ARGV[11] its ttl ms
  ARGV[12] ms to keep the minute's counts
  Returns {moved 1|0 (0: not held by token, the job was already handed to someone else), twins absorbed by a
  released cookie, rescheduled jid or ''}
]]
local jid, token, kind, key = ARGV[1], ARGV[2], ARGV[5], ARGV[6]
local held = redis.call('HGET', KEYS[2], jid)
if not held or string.sub(held, 1, #token + 1) ~= token .. '|' then return { 0, 0, '' } end
redis.call('HDEL', KEYS[2], jid)
redis.call('ZREM', KEYS[1], jid)
redis.call('ZADD', KEYS[3], ARGV[4], jid)
redis.call('HSET', KEYS[4], jid, ARGV[3])
if kind ~= 'snooze' then
  redis.call('HINCRBY', KEYS[6], 'failed', 1)
  if redis.call('HINCRBY', KEYS[9], 'failed', 1) == 1 then redis.call('PEXPIRE', KEYS[9], ARGV[12]) end
end
if ARGV[8] ~= '' then redis.call('HINCRBY', KEYS[6], 'lb:' .. ARGV[8], 1) end
local now, absorbed, rescheduled = tonumber(ARGV[7]), 0, ''
if key ~= '' then
  local c = cookie_get(KEYS[5], key, now)
  if c and c.owner == jid then
    if kind ~= 'dead' then
      c.executing, c.dx = '0', 0
      redis.call('HSET', KEYS[5], key, cookie_format(c))
    elseif c.absorbed > 0 and ARGV[9] ~= '' then
      absorbed, rescheduled = c.absorbed, ARGV[9]
      local raw = ARGV[10]
      if c.wal ~= '' then raw = wal_into_payload(raw, 'wal_locations', c.wal) end
      if redis.call('LPUSH', KEYS[7], raw) == 1 then wake_empty(KEYS[8]) end
      redis.call('HSET', KEYS[5], key, cookie_format({ strategy = c.strategy, owner = rescheduled, absorbed = 0, executing = '0', dx = 0, expires = now + tonumber(ARGV[11]), wal = c.wal }))
      redis.call('HINCRBY', KEYS[6], 'rescheduled', 1)
    else
      absorbed = c.absorbed
      redis.call('HDEL', KEYS[5], key)
    end
  end
end
return { 1, absorbed, rescheduled }
