--[[
  Hand out up to N ready jobs under a lease from one or more queues, taking from them in the order given: all the
  first queue's ready jobs (up to N), then the next queue's, and so on; a paused queue is passed over (and not
  woken: its jobs wait for queueResume). One call for every queue of a worker, so an empty queue costs a few
  in-script reads, not a round trip. The caller puts in one call only queues whose keys may share a script (on
  Redis Cluster, one hash slot).
  For a job that owns its dedup cookie, read the cookie's WAL in the same step: until_executing (E) deletes the
  cookie here, so no twin can slip in between "read WAL" and "release key"; until_executed (D) marks it executing
  so twins arriving now are counted for reschedule_once. The WAL is written into the payload as
  dedup_wal_locations (replacing an older copy), so a job put back by snooze, retry, shutdown or lease expiry
  still carries it after its cookie is gone.
  A job is leased under its payload's own jid, or, when the payload has none or another job in flight holds that
  jid, under an id made from the payload's hash: the worker then sees that the ids differ and buries the job.
  The fetch id makes a resend harmless: a fetch whose reply was lost and that comes again with the same id gets
  back the jobs the first one leased (those still held, from every queue it leased from, paused since or not)
  instead of leasing more to a worker that never saw them. Each queue keeps its own memo (its keys' slot).
  KEYS: 7 per queue; for the i-th queue (from 0), KEYS[7i+1] ready list  +2 leases zset  +3 active hash
    +4 signal list  +5 dedup hash  +6 this worker's last fetch from the queue (string, expires with the lease)
    +7 paused flag (string; exists while the queue is paused)
  ARGV[1] max jobs in all  ARGV[2] lease token  ARGV[3] lease expires at ms  ARGV[4] now ms  ARGV[5] fetch id
  ARGV[6] lease ms
  Returns flat {queue index (from 1), jid, payload, ...}
]]
local left, token, expires, now, fetch_id = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local prefix = token .. '|'
local out = {}

local resent = false
for q = 1, #KEYS / 7 do
  local k = (q - 1) * 7
  local last = redis.call('GET', KEYS[k + 6])
  if last then
    local memo = cjson.decode(last)
    if memo.id == fetch_id then
      resent = true
      for _, jid in ipairs(memo.jids) do
        local held = redis.call('HGET', KEYS[k + 3], jid)
        if held and string.sub(held, 1, #prefix) == prefix then
          out[#out + 1] = q
          out[#out + 1] = jid
          out[#out + 1] = string.sub(held, #prefix + 1)
        end
      end
    end
  end
end
if resent then return out end

for q = 1, #KEYS / 7 do
  if left <= 0 then break end
  local k = (q - 1) * 7
  local ready, leases, active, dedup = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 5]
  -- An empty queue (most of them, for a worker on many queues) costs one LLEN.
  local popped = redis.call('LLEN', ready) > 0 and redis.call('EXISTS', KEYS[k + 7]) == 0 and redis.call('RPOP', ready, left)
  if popped then
    left = left - #popped
    local jids = {}
    -- Each job is leased right after it is popped: a script that fails halfway keeps its earlier writes, so
    -- nothing may be able to fail between taking a job off the list and recording its lease.
    for _, raw in ipairs(popped) do
      local jid, key = payload_ids(raw)
      jid = jid or ('unreadable-' .. redis.sha1hex(raw))
      if redis.call('HEXISTS', active, jid) == 1 then jid = jid .. '#' .. redis.sha1hex(raw) end
      if key then
        local c = cookie_get(dedup, key, now)
        if c and c.owner == jid then
          if c.wal ~= '' then raw = wal_into_payload(string.gsub(raw, ',"dedup_wal_locations":{[^}]*}', ''), 'dedup_wal_locations', c.wal) end
          if c.strategy == 'E' then
            redis.call('HDEL', dedup, key)
          else
            c.executing, c.dx = '1', 0
            redis.call('HSET', dedup, key, cookie_format(c))
          end
        end
      end
      redis.call('ZADD', leases, expires, jid)
      redis.call('HSET', active, jid, prefix .. raw)
      jids[#jids + 1] = jid
      out[#out + 1] = q
      out[#out + 1] = jid
      out[#out + 1] = raw
    end
    redis.call('SET', KEYS[k + 6], cjson.encode({ id = fetch_id, jids = jids }), 'PX', ARGV[6])
    wake(ready, KEYS[k + 4])
  end
end
return out
