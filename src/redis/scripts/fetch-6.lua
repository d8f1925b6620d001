--[[
  Hand out up to N ready jobs under a lease. For a job that owns its dedup cookie, read the cookie's WAL in the
  same step: until_executing (E) deletes the cookie here, so no twin can slip in between "read WAL" and
  "release key"; until_executed (D) marks it executing so twins arriving now are counted for reschedule_once.
  The WAL is written into the payload as dedup_wal_locations (replacing an older copy), so a job put back by
  snooze, retry, shutdown or lease expiry still carries it after its cookie is gone.
  A job is leased under its payload's own jid, or, when the payload has none or another job in flight holds that
  jid, under an id made from the payload's hash: the worker then sees that the ids differ and buries the job.
  The fetch id makes a resend harmless: a fetch whose reply was lost and that comes again with the same id gets
  back the jobs the first one leased (those still held), instead of leasing more to a worker that never saw them.
  KEYS[1] ready list  KEYS[2] leases zset  KEYS[3] active hash  KEYS[4] signal list
  KEYS[5] dedup hash  KEYS[6] this worker's last fetch (string, expires with the lease)
  ARGV[1] max jobs  ARGV[2] lease token  ARGV[3] lease expires at ms  ARGV[4] now ms  ARGV[5] fetch id
  ARGV[6] lease ms
  Returns flat {jid, payload, ...}
]]
local token, expires, now, fetch_id = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local prefix = token .. '|'
local out = {}

local last = redis.call('GET', KEYS[6])
if last then
  local memo = cjson.decode(last)
  if memo.id == fetch_id then
    for _, jid in ipairs(memo.jids) do
      local held = redis.call('HGET', KEYS[3], jid)
      if held and string.sub(held, 1, #prefix) == prefix then
        out[#out + 1] = jid
        out[#out + 1] = string.sub(held, #prefix + 1)
      end
    end
    return out
  end
end

local popped = redis.call('RPOP', KEYS[1], tonumber(ARGV[1]))
if not popped then return {} end
local jids = {}
-- Each job is leased right after it is popped: a script that fails halfway keeps its earlier writes, so nothing
-- may be able to fail between taking a job off the list and recording its lease.
for _, raw in ipairs(popped) do
  local jid, key = payload_ids(raw)
  jid = jid or ('unreadable-' .. redis.sha1hex(raw))
  if redis.call('HEXISTS', KEYS[3], jid) == 1 then jid = jid .. '#' .. redis.sha1hex(raw) end
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
  redis.call('HSET', KEYS[3], jid, prefix .. raw)
  jids[#jids + 1] = jid
  out[#out + 1] = jid
  out[#out + 1] = raw
end
redis.call('SET', KEYS[6], cjson.encode({ id = fetch_id, jids = jids }), 'PX', ARGV[6])
wake(KEYS[1], KEYS[4])
return out
