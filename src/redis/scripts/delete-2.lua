--[[
  Delete a job from the schedule, retry or dead set.
  KEYS[1] source zset  KEYS[2] jobs hash
  ARGV[1] jid
  Returns 1 deleted | 0 no such job in that set
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
