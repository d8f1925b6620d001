--[[
  Move a dead or retrying job back to the ready list now (dashboard / `lagless dead retry`).
  KEYS[1] source zset (dead | retry)  KEYS[2] jobs hash  KEYS[3] ready list  KEYS[4] signal list
  ARGV[1] jid
  Returns 1 moved | 0 no such job in that set
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local raw = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if not raw then return 0 end
redis.call('LPUSH', KEYS[3], raw)
wake(KEYS[3], KEYS[4])
return 1
