--[[
  Read one limited class's usage (CLI, dashboard). Its only write: an entry last declared before ARGV[4] that holds
  no job (none running, reserved or deferred) is dropped with the class's keys, so a limit removed from the code
  leaves no row behind (store/limits.ts, LIMIT_ENTRY_TTL_MS). Checked here, atomically: a check that re-declared
  the class since the caller read the entry keeps it.
  KEYS[1] active hash  KEYS[2] running zset  KEYS[3] reserved zset  KEYS[4] deferred list  KEYS[5] starts zset
  KEYS[6] class state hash  KEYS[7] queue's limits hash
  ARGV[1] now ms  ARGV[2] rate window ms (0 = no rate limit)  ARGV[3] worker class  ARGV[4] stale before ms
  Returns {running with a live lease, reserved, deferred, starts in the window, deferred total, 1 if dropped}
]]
local running = 0
for _, jid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('HEXISTS', KEYS[1], jid) == 1 then running = running + 1 end
end
local reserved = redis.call('ZCARD', KEYS[3])
local deferred = redis.call('LLEN', KEYS[4])
local entry = redis.call('HGET', KEYS[7], ARGV[3])
local declared = entry and tonumber(string.match(entry, '^[^|]*|[^|]*|[^|]*|(%d+)') or '0') or 0
if entry and declared < tonumber(ARGV[4]) and running + reserved + deferred == 0 then
  redis.call('HDEL', KEYS[7], ARGV[3])
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
  return { 0, 0, 0, 0, 0, 1 }
end
local per_ms = tonumber(ARGV[2])
local starts = per_ms > 0 and redis.call('ZCOUNT', KEYS[5], '(' .. (tonumber(ARGV[1]) - per_ms), '+inf') or 0
return { running, reserved, deferred, starts, tonumber(redis.call('HGET', KEYS[6], 'deferred') or '0'), 0 }
