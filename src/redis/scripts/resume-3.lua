--[[
  Resume a paused queue: drop its paused flag and wake a blocked worker if jobs wait (a paused queue is never woken,
  so its workers may all be blocked on other queues).
  KEYS[1] paused flag  KEYS[2] ready list  KEYS[3] signal list
  Returns 1 when the queue was paused, else 0
]]
local resumed = redis.call('DEL', KEYS[1])
if resumed == 1 then wake(KEYS[2], KEYS[3]) end
return resumed
