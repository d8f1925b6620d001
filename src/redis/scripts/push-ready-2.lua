--[[
  Push many plain jobs (no dedup, due now) in one call and wake a blocked worker.
  KEYS[1] ready list  KEYS[2] signal list
  ARGV[1..] payload json (at most a few thousand per call: they are passed to LPUSH at once)
  Returns the ready list length
]]
local n = redis.call('LPUSH', KEYS[1], unpack(ARGV))
if redis.call('LLEN', KEYS[2]) == 0 then redis.call('LPUSH', KEYS[2], '1') end
return n
