-- keyward-redis: count one failed authentication from one address group, atomically,
-- on the server's clock.
--
-- KEYS[1]  the group's state, a hash: n = failures in the window, w = when the window
--          opened, l = until when the group is locked out (microseconds since the Unix
--          epoch); absent when the group has no open window and no lockout
-- ARGV[1]  failures that lock the group out
-- ARGV[2]  the window, in microseconds
-- ARGV[3]  the lockout, in microseconds
--
-- Returns 0 when the group is open after this failure, else the microseconds until its
-- lockout ends. The hash expires when it would mean nothing any more: at the end of the
-- window, or of the lockout. A failure during a lockout changes nothing.
if redis.replicate_commands then
  redis.replicate_commands()
end

local max_failures = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local lockout = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local state = redis.call('HMGET', KEYS[1], 'n', 'w', 'l')
local n = tonumber(state[1]) or 0
local w = tonumber(state[2]) or 0
local l = tonumber(state[3]) or 0

if l > now then
  return l - now
end
if n == 0 or w + window <= now then
  w = now
  n = 0
end
n = n + 1
if n >= max_failures then
  local until_us = now + lockout
  redis.call('HSET', KEYS[1], 'n', '0', 'w', '0', 'l', string.format('%d', until_us))
  redis.call('PEXPIRE', KEYS[1], string.format('%d', math.max(1, math.ceil(lockout / 1000))))
  return lockout
end
redis.call('HSET', KEYS[1], 'n', string.format('%d', n), 'w', string.format('%d', w), 'l', '0')
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.max(1, math.ceil((w + window - now) / 1000))))
return 0
