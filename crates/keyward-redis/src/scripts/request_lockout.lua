-- keyward-redis: one authenticated request's two limits in one script, on the server's
-- clock: the client's lockout first, then, only if it is open, the key's GCRA decision.
-- This part is the lockout; gcra.lua is appended to it, so both scripts share one
-- GCRA (see there for KEYS[1], ARGV and what it returns).
--
-- KEYS[1]  the key's theoretical arrival time (gcra.lua)
-- KEYS[2]  the client group's lockout state (guard_fail.lua); only its lockout end `l`
--          is read
--
-- Returns {2, microseconds until the lockout ends (a decimal string)} when the group is
-- locked out, writing nothing and leaving the key's budget untouched; otherwise what
-- gcra.lua returns.
if redis.replicate_commands then
  redis.replicate_commands()
end

local lockout_end = tonumber(redis.call('HGET', KEYS[2], 'l')) or 0
if lockout_end ~= 0 then
  local lockout_time = redis.call('TIME')
  local lockout_now = tonumber(lockout_time[1]) * 1000000 + tonumber(lockout_time[2])
  if lockout_end > lockout_now then
    return {2, string.format('%d', lockout_end - lockout_now)}
  end
end

