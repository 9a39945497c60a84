-- keyward-redis: whether one address group is locked out, on the server's clock.
--
-- KEYS[1]  the group's state (see guard_fail.lua); only its lockout field is read
--
-- Returns 0 when the group is open, else the microseconds until its lockout ends.
-- Reads only.
local l = tonumber(redis.call('HGET', KEYS[1], 'l')) or 0
if l == 0 then
  return 0
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
if l > now then
  return l - now
end
return 0
