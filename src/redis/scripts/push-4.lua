--[[
  Push one job, deduplicating against the queue's cookie when a key is given. Check and push are one step, so
  concurrent twins can never both create a job, and an absorbed twin's WAL positions are never lost.
  KEYS[1] dedup hash  KEYS[2] stats hash
  KEYS[3], KEYS[4] where the job goes: the ready list and signal list when it is due now, the schedule zset and
  jobs hash when it is due later
  ARGV[1] payload json (an object)  ARGV[2] dedup key ('' = no dedup)
  ARGV[3] the cookie this job owns if it is new, built by the client (dedup-cookie.ts); its last field is this
  enqueue's WAL "db=lsn,..."
  ARGV[4] now ms  ARGV[5] options, one letter each: idempotent 1|0, preserve latest WAL 1|0 (e.g. "11")
  ARGV[6] run-at ms, ARGV[7] jid: only for a job due later (the schedule holds jids)
  Returns 1 pushed | "1|<owner>" pushed with duplicate-of (not idempotent) | "0|<owner>|<raised dbs a,b>" absorbed
  (an integer in the common case: the client decodes it for less than an array)
  Redis pays for every argument and every number formatted here, so the hot paths (a new key, a twin) take the
  fewest that still decide them.
]]
return push_job(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
