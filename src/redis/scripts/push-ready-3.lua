--[[
  Push many plain jobs (no dedup, due now) in one call and wake a blocked worker. A jid pushed within the window
  is skipped: a resent call after a lost reply queues nothing twice.
  KEYS[1] ready list  KEYS[2] signal list  KEYS[3] pushed zset
  ARGV[1] push window ms  ARGV[2..] payload json (lagless's own: jid first; at most a few thousand per call)
  Returns the number of jobs pushed
]]
local jids = {}
for i = 2, #ARGV do jids[i - 1] = payload_ids(ARGV[i]) or '' end
local seen = redis.call('ZMSCORE', KEYS[3], unpack(jids))
local fresh, payloads = {}, {}
for i, jid in ipairs(jids) do
  -- A payload without a jid (only ever written by hand) cannot be traced, and is pushed as it is.
  if jid == '' or not seen[i] then
    if jid ~= '' then fresh[#fresh + 1] = jid end
    payloads[#payloads + 1] = ARGV[i + 1]
  end
end
if #payloads == 0 then return 0 end
pushed_record(KEYS[3], tonumber(ARGV[1]), fresh)
if redis.call('LPUSH', KEYS[1], unpack(payloads)) == #payloads then wake_empty(KEYS[2]) end
return #payloads
