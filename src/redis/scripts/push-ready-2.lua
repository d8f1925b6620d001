--[[
  Push many plain jobs (no dedup, due now) in one call and wake a blocked worker.
  KEYS[1] ready list  KEYS[2] signal list
  ARGV[1..] payload json (at most a few thousand per call: they are passed to LPUSH at once)
  Returns the ready list length
]]
local n = redis.call('LPUSH', KEYS[1], unpack(ARGV))
if n == #ARGV then wake_empty(KEYS[2]) end
return n
