--[[
  Finish jobs held under `token`: drop lease and payload, count them, settle until_executed cookies. With
  reschedule_once, a job that absorbed a twin while it ran is pushed once more, carrying the cookie's latest WAL,
  in the same step that hands the cookie to it: no twin can fall between "release" and "reschedule".
  KEYS[1] leases zset  KEYS[2] active hash  KEYS[3] stats hash  KEYS[4] dedup hash  KEYS[5] dedup-ttl zset
  KEYS[6] ready list  KEYS[7] signal list
  ARGV[1] now ms, then per job 6 values: jid, token, dedup key (''), reschedule jid (''), reschedule payload
  json without wal_locations (''), reschedule ttl ms
  Returns flat {acked 1|0, rescheduled jid or '', ...} in input order
]]
local now = tonumber(ARGV[1])
local out, done = {}, 0
for i = 2, #ARGV, 6 do
  local jid, token, key = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local held = redis.call('HGET', KEYS[2], jid)
  local acked, rescheduled = 0, ''
  if held and string.sub(held, 1, #token + 1) == token .. '|' then
    redis.call('HDEL', KEYS[2], jid)
    redis.call('ZREM', KEYS[1], jid)
    acked, done = 1, done + 1
    local c = key ~= '' and cookie_get(KEYS[4], KEYS[5], key, now)
    if c and c.owner == jid then
      if ARGV[i + 4] ~= '' and c.dx > 0 then
        rescheduled = ARGV[i + 3]
        local raw = ARGV[i + 4]
        if c.wal ~= '' then raw = wal_into_payload(raw, 'wal_locations', c.wal) end
        redis.call('LPUSH', KEYS[6], raw)
        if redis.call('LLEN', KEYS[7]) == 0 then redis.call('LPUSH', KEYS[7], '1') end
        redis.call('HSET', KEYS[4], key, cookie_format({ strategy = c.strategy, owner = rescheduled, absorbed = 0, executing = '0', dx = 0, wal = c.wal }))
        redis.call('ZADD', KEYS[5], now + tonumber(ARGV[i + 5]), key)
        redis.call('HINCRBY', KEYS[3], 'rescheduled', 1)
      else
        cookie_delete(KEYS[4], KEYS[5], key)
      end
    end
  end
  out[#out + 1] = acked
  out[#out + 1] = rescheduled
end
if done > 0 then redis.call('HINCRBY', KEYS[3], 'processed', done) end
return out
