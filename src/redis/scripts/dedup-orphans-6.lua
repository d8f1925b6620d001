--[[
  Step of the dedup reaper. With ARGV[2] a cursor it scans: deletes expired cookies and returns (key, owner) pairs
  whose owner is in no lease, schedule or retry set (the caller then looks for them in the ready list, in chunks,
  so Redis is never blocked by a long list). With ARGV[2] = '' it releases the given cookies whose owner is
  unchanged and still nowhere — only while the caller still holds the queue's maintenance lock: promotions back
  to the ready list happen under that lock, so none can have slipped behind the caller's chunked read of the list.
  An owner parked by a concurrency or rate limit (KEYS[6], kept until a worker checks it again) is alive too.
  KEYS[1] dedup hash  KEYS[2] active hash  KEYS[3] schedule zset  KEYS[4] retry zset  KEYS[5] maintenance lock
  KEYS[6] parked hash
  ARGV[1] now ms  ARGV[2] scan cursor | ''  ARGV[3] lock token (release)  ARGV[4..] key, owner pairs (release)
  Returns scan: {next cursor, key, owner, ...} | release: number released (0 when the lock was lost)
]]
local now = tonumber(ARGV[1])
local function owner_alive(jid)
  return redis.call('HEXISTS', KEYS[2], jid) == 1 or redis.call('ZSCORE', KEYS[3], jid) or redis.call('ZSCORE', KEYS[4], jid)
    or redis.call('HEXISTS', KEYS[6], jid) == 1
end

if ARGV[2] == '' then
  local lock = redis.call('GET', KEYS[5])
  if not lock or string.match(lock, '^(.*)|%d+$') ~= ARGV[3] then return 0 end
  local released = 0
  for i = 4, #ARGV, 2 do
    local c = cookie_get(KEYS[1], ARGV[i], now)
    if c and c.owner == ARGV[i + 1] and not owner_alive(c.owner) then
      redis.call('HDEL', KEYS[1], ARGV[i])
      released = released + 1
    end
  end
  return released
end

local scan = redis.call('HSCAN', KEYS[1], ARGV[2], 'COUNT', 200)
local out = { scan[1] }
for i = 1, #scan[2], 2 do
  local c = cookie_get(KEYS[1], scan[2][i], now)
  if c and not owner_alive(c.owner) then
    out[#out + 1] = scan[2][i]
    out[#out + 1] = c.owner
  end
end
return out
