--[[
  Which of these jobs are already queued: the check before a push is sent again after its reply was lost, so a
  resent push never queues a jid twice. A job counts as queued when it is in flight or in the schedule, retry or
  dead set (by jid), or waits in the ready list (by its exact payload, or the payload a non-idempotent twin was
  pushed with). Only resends pay for it; LPOS scans from the head, where a recent push sits.
  KEYS[1] ready list  KEYS[2] active hash  KEYS[3] jobs hash  KEYS[4] dedup hash
  ARGV triples: jid, payload json, dedup key ('' = none)
  Returns {1|0, ...} per job, in order
]]
local out = {}
for i = 1, #ARGV, 3 do
  local jid, raw, key = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local queued = redis.call('HEXISTS', KEYS[2], jid) == 1 or redis.call('HEXISTS', KEYS[3], jid) == 1
    or redis.call('LPOS', KEYS[1], raw) ~= false
  if not queued and key ~= '' then
    local c = cookie_parse(redis.call('HGET', KEYS[4], key) or '')
    if c and c.owner ~= jid then
      queued = redis.call('LPOS', KEYS[1], '{"duplicate-of":"' .. c.owner .. '",' .. string.sub(raw, 2)) ~= false
    end
  end
  out[#out + 1] = queued and 1 or 0
end
return out
