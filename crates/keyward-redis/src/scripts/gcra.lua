-- keyward-redis: one GCRA decision for one key, atomically, on the server's clock.
--
-- KEYS[1]  the key's theoretical arrival time (TAT): integer nanoseconds since the Unix
--          epoch, as a decimal string; absent when the key's bucket is full
-- ARGV[1]  the emission interval t = period / limit, in nanoseconds
-- ARGV[2]  the bucket's capacity, limit * t, in nanoseconds
--
-- Returns {allowed (1 or 0), debt before this request in nanoseconds (a decimal string)}.
-- An allowed request stores TAT = now + debt + t with a TTL of debt + t (the time until
-- the bucket is full again, when an absent key means the same thing); a refused one
-- writes nothing.
--
-- Lua numbers are doubles: absolute nanoseconds (~1.7e18) do not fit in their 53 bits,
-- so the TAT is split into seconds and nanoseconds, and only differences (debts, at most
-- the capacity) are computed as one number: exact for periods up to 104 days.
if redis.replicate_commands then
  redis.replicate_commands()
end

local t = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local time = redis.call('TIME')
local now_s = tonumber(time[1])
local now_ns = tonumber(time[2]) * 1000

local debt = 0
local stored = redis.call('GET', KEYS[1])
if stored and string.match(stored, '^%d+$') then
  local len = string.len(stored)
  local tat_s = 0
  if len > 9 then
    tat_s = tonumber(string.sub(stored, 1, len - 9))
  end
  local tat_ns = tonumber(string.sub(stored, math.max(1, len - 8)))
  debt = (tat_s - now_s) * 1e9 + (tat_ns - now_ns)
  if debt < 0 then
    debt = 0
  end
end

local after = debt + t
if after <= capacity then
  local total = now_ns + after
  local carry = math.floor(total / 1e9)
  local tat_ns = total - carry * 1e9
  if tat_ns < 0 then
    tat_ns = 0
  elseif tat_ns > 999999999 then
    tat_ns = 999999999
  end
  local tat = string.format('%d%09d', now_s + carry, tat_ns)
  local ttl_ms = math.max(1, math.ceil(after / 1e6))
  redis.call('SET', KEYS[1], tat, 'PX', string.format('%d', ttl_ms))
  return {1, string.format('%.0f', debt)}
end
return {0, string.format('%.0f', debt)}
