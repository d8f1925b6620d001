--[[
  Hand leased jobs back at the head of the ready list at once (graceful shutdown), instead of after lease expiry.
  KEYS[1] leases zset  KEYS[2] active hash  KEYS[3] ready list  KEYS[4] signal list
  ARGV[1] token, ARGV[2..] jids
  Returns the number of jobs handed back
]]
local token, n = ARGV[1], 0
for i = 2, #ARGV do
  local held = redis.call('HGET', KEYS[2], ARGV[i])
  if held and string.sub(held, 1, #token + 1) == token .. '|' then
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('RPUSH', KEYS[3], string.sub(held, #token + 2))
    n = n + 1
  end
end
wake(KEYS[3], KEYS[4])
return n
