-- keyward-redis: GCRA on the server's clock, as functions the scripts end with: the
-- limiter's script calls gcra_budgets(1), the request script (request_lockout.lua
-- first) gcra_budgets(2).
--
-- A budget's key holds its theoretical arrival time (TAT): integer nanoseconds since
-- the Unix epoch, as a decimal string; absent when the budget's bucket is full.
--
-- gcra_budgets(first): one request against every budget KEYS[first], KEYS[first + 1],
-- ...; the i-th budget's emission interval t = period / limit and capacity limit * t
-- (nanoseconds) are ARGV[2i - 1] and ARGV[2i]. All or nothing: every debt is read
-- first, and only when each budget allows the request is each one spent.
--
-- Returns {'1', debt of budget 1, debt of budget 2, ...} (each before this request, in
-- nanoseconds, decimal strings) when all allow it; {'0', i, debt of budget i} for the
-- first budget that refuses, writing nothing. An allowed request stores, per budget,
-- TAT = now + debt + t with a TTL of debt + t (the time until the bucket is full again,
-- when an absent key means the same thing).
--
-- Lua numbers are doubles: absolute nanoseconds (~1.7e18) do not fit in their 53 bits,
-- so the TAT is split into seconds and nanoseconds, and only differences (debts, at most
-- the capacity) are computed as one number: exact for periods up to 104 days.
if redis.replicate_commands then
  redis.replicate_commands()
end

local function gcra_debt(key, now_s, now_ns)
  local stored = redis.call('GET', key)
  if not (stored and string.match(stored, '^%d+$')) then
    return 0
  end
  local len = string.len(stored)
  local tat_s = 0
  if len > 9 then
    tat_s = tonumber(string.sub(stored, 1, len - 9))
  end
  local tat_ns = tonumber(string.sub(stored, math.max(1, len - 8)))
  local debt = (tat_s - now_s) * 1e9 + (tat_ns - now_ns)
  if debt < 0 then
    return 0
  end
  return debt
end

local function gcra_spend(key, after, now_s, now_ns)
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
  redis.call('SET', key, tat, 'PX', string.format('%d', ttl_ms))
end

local function gcra_budgets(first)
  local time = redis.call('TIME')
  local now_s = tonumber(time[1])
  local now_ns = tonumber(time[2]) * 1000
  local count = #KEYS - first + 1
  local debts = {}
  for i = 1, count do
    local t = tonumber(ARGV[2 * i - 1])
    local capacity = tonumber(ARGV[2 * i])
    local debt = gcra_debt(KEYS[first + i - 1], now_s, now_ns)
    if debt + t > capacity then
      return {'0', string.format('%d', i), string.format('%.0f', debt)}
    end
    debts[i] = debt
  end
  local answer = {'1'}
  for i = 1, count do
    gcra_spend(KEYS[first + i - 1], debts[i] + tonumber(ARGV[2 * i - 1]), now_s, now_ns)
    answer[i + 1] = string.format('%.0f', debts[i])
  end
  return answer
end
