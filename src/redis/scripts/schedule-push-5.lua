--[[
  Push a cron tick's job only if none was pushed yet for this tick or a later one of the schedule on this queue:
  the mark and the push are one step, so of a slow claimer and the scheduler that took over its lapsed lease
  (schedule-claim-1.lua) exactly one enqueues the tick. The marks live in the queue's slot, next to the keys the
  push writes.
  KEYS[1..4] as push-4.lua  KEYS[5] cron ticks hash (schedule name → "<tick ms>|<jid>")
  ARGV[1] schedule name  ARGV[2] tick ms  ARGV[3] the job's jid  ARGV[4..] as push-4.lua's ARGV[1..]
  Returns push-4.lua's reply, or "taken|<jid of the tick's job>" when the tick was pushed already (nothing pushed)
]]
local mark = redis.call('HGET', KEYS[5], ARGV[1])
if mark then
  local sep = string.find(mark, '|', 1, true)
  if tonumber(string.sub(mark, 1, sep - 1)) >= tonumber(ARGV[2]) then return 'taken|' .. string.sub(mark, sep + 1) end
end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
return push_job(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10])
