--[[
  Claim one tick of a cron schedule: exactly one caller per (schedule, definition, tick) gets past the
  compare-and-set below, however many processes run the scheduler.
  KEYS[1] schedule hash (fields: tick:<definition>, lease, paused, last_tick, last_run, last_jid)
  ARGV[1] definition hash  ARGV[2] tick ms  ARGV[3] now ms, ARGV[4] lease ms (both '' = no lease)
  Returns 'claimed' | 'taken' (this tick or a later one was claimed) | 'paused' (claimed, not to enqueue)
  | 'first' (first sight of this definition: the tick is recorded as a starting point, not enqueued)
  | 'pending' (claimed by a caller whose lease "<tick>|<until ms>" runs yet; record-tick clears it)
  A lease that ran out is handed to this caller: its claimer died or failed between claim and enqueue. The
  takeover cannot enqueue twice, because the push itself is conditional on the tick (schedule-push-5.lua).
]]
local field = 'tick:' .. ARGV[1]
local tick = tonumber(ARGV[2])
local last = tonumber(redis.call('HGET', KEYS[1], field) or '')
if last and last >= tick then
  if last ~= tick or ARGV[4] == '' then return 'taken' end
  local lease = redis.call('HGET', KEYS[1], 'lease')
  if not lease then return 'taken' end
  local sep = string.find(lease, '|', 1, true)
  if tonumber(string.sub(lease, 1, sep - 1)) ~= tick then return 'taken' end
  if tonumber(string.sub(lease, sep + 1)) > tonumber(ARGV[3]) then return 'pending' end
  redis.call('HSET', KEYS[1], 'lease', ARGV[2] .. '|' .. (tonumber(ARGV[3]) + tonumber(ARGV[4])))
  return 'claimed'
end
redis.call('HSET', KEYS[1], field, ARGV[2])
if not last then return 'first' end
if redis.call('HEXISTS', KEYS[1], 'paused') == 1 then return 'paused' end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'lease', ARGV[2] .. '|' .. (tonumber(ARGV[3]) + tonumber(ARGV[4]))) end
return 'claimed'
