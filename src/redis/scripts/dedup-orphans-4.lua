--[[
  Step of the dedup reaper. Without ARGV[3..] it scans: deletes expired cookies and returns (key, owner) pairs
  whose owner is in no lease, schedule or retry set (the caller then looks for them in the ready list, in chunks,
  so Redis is never blocked by a long list). With pairs given it releases those cookies whose owner is unchanged
  and still nowhere. Releasing a cookie wrongly only lets a later twin create a job; it never drops work.
  KEYS[1] dedup hash  KEYS[2] active hash  KEYS[3] schedule zset  KEYS[4] retry zset
  ARGV[1] now ms  ARGV[2] scan cursor  ARGV[3..] key, owner pairs to release
  Returns scan: {next cursor, key, owner, ...} | release: number released
]]
local now = tonumber(ARGV[1])
local function owner_alive(jid)
  return redis.call('HEXISTS', KEYS[2], jid) == 1 or redis.call('ZSCORE', KEYS[3], jid) or redis.call('ZSCORE', KEYS[4], jid)
end

if #ARGV > 2 then
  local released = 0
  for i = 3, #ARGV, 2 do
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
