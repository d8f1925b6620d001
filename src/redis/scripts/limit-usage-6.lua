--[[
  Read one limited class's usage (CLI, dashboard); writes nothing.
  KEYS[1] active hash  KEYS[2] running zset  KEYS[3] reserved zset  KEYS[4] deferred list  KEYS[5] starts zset
  KEYS[6] class state hash
  ARGV[1] now ms  ARGV[2] rate window ms (0 = no rate limit)
  Returns {running with a live lease, reserved, deferred, starts in the window, deferred total}
]]
local running = 0
for _, jid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('HEXISTS', KEYS[1], jid) == 1 then running = running + 1 end
end
local per_ms = tonumber(ARGV[2])
local starts = per_ms > 0 and redis.call('ZCOUNT', KEYS[5], '(' .. (tonumber(ARGV[1]) - per_ms), '+inf') or 0
return { running, redis.call('ZCARD', KEYS[3]), redis.call('LLEN', KEYS[4]), starts,
         tonumber(redis.call('HGET', KEYS[6], 'deferred') or '0') }
