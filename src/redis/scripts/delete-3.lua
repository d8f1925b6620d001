--[[
  Delete a job from the schedule, retry or dead set, and its dedup cookie if it owns one (a deleted job must not
  keep absorbing twins until the cookie expires).
  KEYS[1] source zset  KEYS[2] jobs hash  KEYS[3] dedup hash
  ARGV[1] jid
  Returns 1 deleted | 0 no such job in that set
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local raw = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local key = raw and select(2, payload_ids(raw))
if key then
  local s = redis.call('HGET', KEYS[3], key)
  local c = s and cookie_parse(s)
  if c and c.owner == ARGV[1] then redis.call('HDEL', KEYS[3], key) end
end
return 1
