--[[
  Extend the leases of jobs still held under `token`. A lease that expired and was recovered by maintenance may
  now be held by another worker under its own token: that lease is left alone, so a worker that lost a job can
  never keep it from being recovered again if its new holder dies.
  KEYS[1] leases zset  KEYS[2] active hash
  ARGV[1] token  ARGV[2] lease expires at ms  ARGV[3..] jids
  Returns the jids not held by `token` (lease lost: recovered, settled or handed to another worker)
]]
local token, expires = ARGV[1], ARGV[2]
local prefix = token .. '|'
local lost = {}
for i = 3, #ARGV do
  local jid = ARGV[i]
  local held = redis.call('HGET', KEYS[2], jid)
  if held and string.sub(held, 1, #prefix) == prefix and redis.call('ZSCORE', KEYS[1], jid) then
    redis.call('ZADD', KEYS[1], expires, jid)
  else
    lost[#lost + 1] = jid
  end
end
return lost
