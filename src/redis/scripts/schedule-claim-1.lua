--[[
  Claim one tick of a cron schedule: exactly one caller per (schedule, definition, tick) gets past the
  compare-and-set below, however many processes run the scheduler.
  KEYS[1] schedule hash (fields: tick:<definition>, paused, last_tick, last_run, last_jid)
  ARGV[1] definition hash  ARGV[2] tick ms
  Returns 'claimed' | 'taken' (this tick or a later one was claimed) | 'paused' (claimed, not to enqueue)
  | 'first' (first sight of this definition: the tick is recorded as a starting point, not enqueued)
]]
local field = 'tick:' .. ARGV[1]
local tick = tonumber(ARGV[2])
local last = tonumber(redis.call('HGET', KEYS[1], field) or '')
if last and last >= tick then return 'taken' end
redis.call('HSET', KEYS[1], field, ARGV[2])
if not last then return 'first' end
if redis.call('HEXISTS', KEYS[1], 'paused') == 1 then return 'paused' end
return 'claimed'
