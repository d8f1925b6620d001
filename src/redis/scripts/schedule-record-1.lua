--[[
  Record the job a cron tick enqueued, and end that tick's lease (schedule-claim-1.lua).
  KEYS[1] schedule hash  ARGV[1] tick ms  ARGV[2] now ms  ARGV[3] jid
]]
redis.call('HSET', KEYS[1], 'last_tick', ARGV[1], 'last_run', ARGV[2], 'last_jid', ARGV[3])
local lease = redis.call('HGET', KEYS[1], 'lease')
if lease and string.sub(lease, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then redis.call('HDEL', KEYS[1], 'lease') end
return 1
