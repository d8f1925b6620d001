--[[
  Where one job is, for `app.jobs.get`: its record (completed under keepResult), its lease, the schedule, retry or
  dead set, else the ready list, scanned from the next job to run for at most ARGV[2] entries (bounded work).
  KEYS[1] job record hash  KEYS[2] active hash  KEYS[3] jobs hash  KEYS[4] schedule zset  KEYS[5] retry zset
  KEYS[6] dead zset  KEYS[7] ready list
  ARGV[1] jid  ARGV[2] most ready entries to scan
  Returns {state, payload or '', score or '', record json or '', progress json or ''}, or {} when not found
]]
local jid = ARGV[1]
local fields = redis.call('HMGET', KEYS[1], 'record', 'progress')
local record, progress = fields[1] or '', fields[2] or ''
if record ~= '' then return { 'completed', '', '', record, progress } end
local held = redis.call('HGET', KEYS[2], jid)
if held then
  local bar = string.find(held, '|', 1, true)
  return { 'active', bar and string.sub(held, bar + 1) or held, '', '', progress }
end
local raw = redis.call('HGET', KEYS[3], jid)
if raw then
  for _, pair in ipairs({ { 'scheduled', KEYS[4] }, { 'retry', KEYS[5] }, { 'dead', KEYS[6] } }) do
    local score = redis.call('ZSCORE', pair[2], jid)
    if score then return { pair[1], raw, score, '', progress } end
  end
end
-- The ready list is LPUSHed and popped from the right: the next job to run is at index -1.
local most, chunk = tonumber(ARGV[2]), 1000
for start = 0, most - 1, chunk do
  local stop = math.min(start + chunk, most) - 1
  local page = redis.call('LRANGE', KEYS[7], -stop - 1, -start - 1)
  for i = #page, 1, -1 do
    if payload_ids(page[i]) == jid then return { 'ready', page[i], '', '', progress } end
  end
  if #page < stop - start + 1 then break end
end
return {}
