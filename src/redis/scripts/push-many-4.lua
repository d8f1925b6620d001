--[[
  Push many jobs due now into one queue, in order, each exactly as push-4.lua would push it alone: the enqueues of
  one tick in one call. A twin of a job earlier in the call meets its cookie, so it is absorbed (or pushed with
  duplicate-of) and raises the cookie's WAL positions, as if it came in its own call right after. Twins are folded:
  the cookie of a key is read once and, if twins changed it, written once at the end with the highest WAL positions.
  KEYS[1] dedup hash  KEYS[2] stats hash  KEYS[3] ready list  KEYS[4] signal list
  ARGV groups of 5, one per job: payload json, dedup key ('' = none), cookie if new, now ms, options (see push-4.lua)
  with a third letter '1' when the job's key comes more than once in this call or it carries twins: only those keys
  are folded; after it, a count of quiet twins the caller folded into this job instead of sending them
  (client/push-coalescer.ts, JobPushParams.twins): idempotent, same key and now, no WAL to add, so each is certainly
  absorbed right after it
  Returns one reply per job sent, in order, as push-4.lua's; "E|<error>" for a job Redis refused (each job is pushed
  under pcall: Redis does not undo a script's earlier writes, so one job's error must not become the others')
]]
local memo = { cookies = {}, dirty = {}, absorbed = 0 }

-- Absorb `count` quiet twins of `key` at once, as push_job absorbs each. Right after their anchor's push_job the
-- memo holds the key's cookie, live at `now` (the anchor claimed it with a positive TTL, or found it live).
local function absorb_folded(key, now, count)
  local c = memo_cookie(memo, key, now)
  c.absorbed = c.absorbed + count
  if c.executing == '1' then c.dx = c.dx + count end
  memo.cookies[key] = c
  memo.dirty[key] = c
  memo.absorbed = memo.absorbed + count
end

local function push_at(i)
  local options = ARGV[i + 4]
  local reply = push_job(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], options, nil, nil, #options > 2 and memo or nil)
  if #options > 3 then absorb_folded(ARGV[i + 1], ARGV[i + 3], tonumber(string.sub(options, 4))) end
  return reply
end

local out = {}
for i = 1, #ARGV, 5 do
  local ok, reply = pcall(push_at, i)
  if ok then
    out[#out + 1] = reply
  else
    out[#out + 1] = 'E|' .. tostring(type(reply) == 'table' and reply.err or reply)
  end
end

-- A dirty cookie was read from (or created in) the dedup hash by a write command of this call (HSETNX), so this
-- HSET cannot be refused: not for its type, nor for maxmemory, which Redis checks only before a script's first write.
for key, c in pairs(memo.dirty) do redis.call('HSET', KEYS[1], key, cookie_format(c)) end
-- The counter is for the dashboard: a refused increment must not fail the pushes already made.
if memo.absorbed > 0 then pcall(redis.call, 'HINCRBY', KEYS[2], 'deduplicated', memo.absorbed) end
return out
