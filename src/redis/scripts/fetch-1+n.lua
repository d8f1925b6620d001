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
  The fetch id makes a resend harmless: a fetch whose reply was lost and that comes again with the same id (and the
  same queues in the same order, as ioredis and the worker resend it) gets back the jobs the first one leased, those
  still held, from every queue, paused since or not, instead of leasing more to a worker that never saw them. The
  memo is one key per worker and group of queues, in the slot of the first queue, so checking it is one GET; it
  holds the worker's fetches there that are still unanswered (ARGV[9]), or, when the caller does not say, its last
  two, one for each fetch it may have in flight.
  A queue that looked empty in the worker's last fetch is sent "cold", with its ready list only (for a worker on many
  queues, most of them): when a cold queue holds jobs the script stops there, before leasing anything the queue's
  priority forbids, and says so; the caller sends it again with the queue's full keys.
  On Redis Cluster a fetch over several groups runs this script once per group, in order, and only the first
  group's memo can say whether the fetch id was seen: so the first group keeps a memo even when it leased nothing
  (ARGV[8] 'first'; not when it stopped at a cold queue with jobs, which is sent again at once), and once it says
  the fetch is a resend, the later groups answer from their memos only and lease nothing where they have none
  (ARGV[8] 'resend'): the first attempt leased nothing there, or never got there.
  KEYS[1] this worker's last fetches with this first queue (JSON, expires with the lease)
  then per queue, in order: a hot queue's 6 keys (ready list, leases zset, active hash, signal list, dedup hash,
    paused flag: a string that exists while the queue is paused), or a cold queue's ready list
  ARGV[1] max jobs in all  ARGV[2] lease token  ARGV[3] lease expires at ms  ARGV[4] now ms  ARGV[5] fetch id
  ARGV[6] lease ms  ARGV[7] one letter per queue: h (hot) or c (cold)
  ARGV[8] '' alone, 'first' the first of several groups, 'resend' a later group of a resend
  ARGV[9] the worker's other unanswered fetch ids as ",id,id," ("," for none), or '' when the caller does not say
  Returns {flat {queue index (from 1), jid, payload, ...}, status, 1 if answered from the memo else 0}: status has
    one letter per queue, e (empty), n (a cold queue with jobs, or one a resend's memo names: send it hot), j (jobs
    left or paused) or - (not looked at)
]]
local left, token, expires, now, fetch_id, kinds, mode, open = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[7], ARGV[8], ARGV[9] or ''
local prefix = token .. '|'
local out, status = {}, {}
-- Where each queue's keys start.
local at, k = {}, 2
for q = 1, #kinds do
  at[q] = k
  status[q] = '-'
  k = k + (string.sub(kinds, q, q) == 'h' and 6 or 1)
end

-- The memo holds this worker's fetches for these queues that are still unanswered, newest first, so whichever of
-- them is resent finds its own; without the caller's list, its last MEMO_FETCHES: as many as it keeps in flight
-- (FETCHES_IN_FLIGHT, store/job-store.ts).
local MEMO_FETCHES = 2
local last = redis.call('GET', KEYS[1])
local memos = last and cjson.decode(last) or {}
if memos.id then memos = { memos } end -- a memo of one fetch, as earlier versions wrote it (a rolling upgrade)
for _, memo in ipairs(memos) do
  if memo.id == fetch_id then
    -- A queue the first attempt leased from may be sent cold now (the caller forgot it was hot): its jobs cannot be
    -- read back without its keys, so answer nothing and ask for it hot, like a cold queue with jobs.
    local cold = false
    for i = 1, #memo.jobs, 2 do
      local q = memo.jobs[i]
      if string.sub(kinds, q, q) == 'c' then
        status[q] = 'n'
        cold = true
      end
    end
    if cold then return { out, table.concat(status), 0 } end
    for i = 1, #memo.jobs, 2 do
      local q, jid = memo.jobs[i], memo.jobs[i + 1]
      local held = redis.call('HGET', KEYS[at[q] + 2], jid)
      if held and string.sub(held, 1, #prefix) == prefix then
        out[#out + 1] = q
        out[#out + 1] = jid
        out[#out + 1] = string.sub(held, #prefix + 1)
      end
    end
    return { out, table.concat(status), 1 }
  end
end
if mode == 'resend' then return { out, table.concat(status), 0 } end

local leased = {}
for q = 1, #kinds do
  if left <= 0 then break end
  local k = at[q]
  local ready = KEYS[k]
  if redis.call('LLEN', ready) == 0 then
    status[q] = 'e'
  elseif string.sub(kinds, q, q) == 'c' then
    status[q] = 'n'
    break
  else
    status[q] = 'j'
    local leases, active, dedup = KEYS[k + 1], KEYS[k + 2], KEYS[k + 4]
    local popped = redis.call('EXISTS', KEYS[k + 5]) == 0 and redis.call('RPOP', ready, left)
    if popped then
      left = left - #popped
      -- Each job is leased right after it is popped: a script that fails halfway keeps its earlier writes, so
      -- nothing may be able to fail between taking a job off the list and recording its lease.
      for _, raw in ipairs(popped) do
        local jid, key = payload_ids(raw)
        jid = jid or ('unreadable-' .. redis.sha1hex(raw))
        if redis.call('HEXISTS', active, jid) == 1 then jid = jid .. '#' .. redis.sha1hex(raw) end
        raw = cookie_on_lease(dedup, raw, jid, key, now)
        redis.call('ZADD', leases, expires, jid)
        redis.call('HSET', active, jid, prefix .. raw)
        leased[#leased + 1] = q
        leased[#leased + 1] = jid
        out[#out + 1] = q
        out[#out + 1] = jid
        out[#out + 1] = raw
      end
      -- Pass the wake-up on to the next blocked worker. A published signal (Redis Cluster) woke every waiting
      -- process at once: nothing to pass on, and a message per fetch would wake every subscriber under load.
      if string.sub(KEYS[k + 3], -4) ~= ':pub' then wake(ready, KEYS[k + 3]) end
      if redis.call('LLEN', ready) == 0 then status[q] = 'e' end
    end
  end
end
local stopped_cold = string.find(table.concat(status), 'n', 1, true) ~= nil
if #leased > 0 or (mode == 'first' and not stopped_cold) then
  local kept = { { id = fetch_id, jobs = leased } }
  for i, memo in ipairs(memos) do
    if open == '' then
      if i < MEMO_FETCHES then kept[#kept + 1] = memo end
    elseif string.find(open, ',' .. memo.id .. ',', 1, true) then
      kept[#kept + 1] = memo
    end
  end
  redis.call('SET', KEYS[1], cjson.encode(kept), 'PX', ARGV[6])
end
return { out, table.concat(status), 0 }
