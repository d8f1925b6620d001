--[[
  Move a job held under `token` to the schedule (snooze), retry or dead set with its updated payload.
  until_executed cookies: a job going to retry keeps its cookie (and keeps absorbing twins, which the retry
  covers); a job going to the dead set releases it.
  KEYS[1] leases zset  KEYS[2] active hash  KEYS[3] target zset (schedule | retry | dead)  KEYS[4] jobs hash
  KEYS[5] dedup hash  KEYS[6] stats hash
  ARGV[1] jid  ARGV[2] token  ARGV[3] payload json  ARGV[4] score ms  ARGV[5] kind snooze|retry|dead
  ARGV[6] dedup key ('')  ARGV[7] now ms  ARGV[8] load-balancing strategy to count ('' = none)
  Returns 1 moved | 0 not held by token (lease lost; the job was already handed to someone else)
]]
local jid, token, kind, key = ARGV[1], ARGV[2], ARGV[5], ARGV[6]
local held = redis.call('HGET', KEYS[2], jid)
if not held or string.sub(held, 1, #token + 1) ~= token .. '|' then return 0 end
redis.call('HDEL', KEYS[2], jid)
redis.call('ZREM', KEYS[1], jid)
redis.call('ZADD', KEYS[3], ARGV[4], jid)
redis.call('HSET', KEYS[4], jid, ARGV[3])
if kind ~= 'snooze' then redis.call('HINCRBY', KEYS[6], 'failed', 1) end
if ARGV[8] ~= '' then redis.call('HINCRBY', KEYS[6], 'lb:' .. ARGV[8], 1) end
if key ~= '' then
  local c = cookie_get(KEYS[5], key, tonumber(ARGV[7]))
  if c and c.owner == jid then
    if kind == 'dead' then
      redis.call('HDEL', KEYS[5], key)
    else
      c.executing, c.dx = '0', 0
      redis.call('HSET', KEYS[5], key, cookie_format(c))
    end
  end
end
return 1
