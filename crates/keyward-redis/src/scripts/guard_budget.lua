-- keyward-redis: how many more failures one address group may make before its lockout,
-- or the lockout, on the server's clock.
--
-- KEYS[1]  the group's state (see guard_fail.lua)
-- ARGV[1]  failures that lock the group out
-- ARGV[2]  the window, in microseconds
--
-- Returns {microseconds until the lockout ends (0: open), failures left (0 while
-- locked)}: what guard_fail.lua would decide, without counting. Reads only.
local max_failures = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'n', 'w', 'l')
local n = tonumber(state[1]) or 0
local w = tonumber(state[2]) or 0
local l = tonumber(state[3]) or 0
if n == 0 and l == 0 then
  return {0, max_failures}
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
if l > now then
  return {l - now, 0}
end
if n == 0 or w + window <= now then
  return {0, max_failures}
end
return {0, math.max(1, max_failures - n)}
