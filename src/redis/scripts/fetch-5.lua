--[[
  Hand out up to N ready jobs under a lease. For a job that owns its dedup cookie, read the cookie's WAL in the
  same step: until_executing (E) deletes the cookie here, so no twin can slip in between "read WAL" and
  "release key"; until_executed (D) marks it executing so twins arriving now are counted for reschedule_once.
  The WAL is written into the payload as dedup_wal_locations (replacing an older copy), so a job put back by
  snooze, retry, shutdown or lease expiry still carries it after its cookie is gone.
  KEYS[1] ready list  KEYS[2] leases zset  KEYS[3] active hash  KEYS[4] signal list
  KEYS[5] dedup hash
  ARGV[1] max jobs  ARGV[2] lease token  ARGV[3] lease expires at ms  ARGV[4] now ms
  Returns flat {jid, payload, ...}
]]
local popped = redis.call('RPOP', KEYS[1], tonumber(ARGV[1]))
if not popped then return {} end
local token, expires, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local out = {}
-- Each job is leased right after it is popped: a script that fails halfway keeps its earlier writes, so nothing
-- may be able to fail between taking a job off the list and recording its lease.
for _, raw in ipairs(popped) do
  -- encodePayload writes jid (then idempotency_key) first, so a nested "jid" in args can never match first.
  local jid = string.match(raw, '"jid":"([%w_-]+)"') or ('unreadable-' .. redis.sha1hex(raw))
  local key = string.match(raw, '"idempotency_key":"([%w_-]+)"')
  if key then
    local c = cookie_get(KEYS[5], key, now)
    if c and c.owner == jid then
      if c.wal ~= '' then raw = wal_into_payload(string.gsub(raw, ',"dedup_wal_locations":{[^}]*}', ''), 'dedup_wal_locations', c.wal) end
      if c.strategy == 'E' then
        redis.call('HDEL', KEYS[5], key)
      else
        c.executing, c.dx = '1', 0
        redis.call('HSET', KEYS[5], key, cookie_format(c))
      end
    end
  end
  redis.call('ZADD', KEYS[2], expires, jid)
  redis.call('HSET', KEYS[3], jid, token .. '|' .. raw)
  out[#out + 1] = jid
  out[#out + 1] = raw
end
wake(KEYS[1], KEYS[4])
return out
