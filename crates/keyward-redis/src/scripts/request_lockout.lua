-- keyward-redis: one authenticated request's limits in one script, on the server's
-- clock: the client's lockout first, then, only if it is open, the request's GCRA
-- budgets (its key's, and its owner's and tenant's when limited). This part is the
-- lockout; gcra.lua and `return gcra_budgets(2)` follow it, so every script shares one
-- GCRA (see gcra.lua for the budgets' KEYS, ARGV and what it returns).
--
-- KEYS[1]  the client group's lockout state (guard_fail.lua); only its lockout end `l`
--          is read
-- KEYS[2..] the budgets (gcra.lua)
--
-- Returns {'2', microseconds until the lockout ends (a decimal string)} when the group
-- is locked out, writing nothing and leaving every budget untouched; otherwise what
-- gcra_budgets returns.
if redis.replicate_commands then
  redis.replicate_commands()
end

local lockout_end = tonumber(redis.call('HGET', KEYS[1], 'l')) or 0
if lockout_end ~= 0 then
  local lockout_time = redis.call('TIME')
  local lockout_now = tonumber(lockout_time[1]) * 1000000 + tonumber(lockout_time[2])
  if lockout_end > lockout_now then
    return {'2', string.format('%d', lockout_end - lockout_now)}
  end
end
