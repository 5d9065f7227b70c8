-- Atomic multi-quota GCRA with reservation (luxcore-ext RedisRateLimiter).
-- KEYS[i]: the theoretical arrival time (TAT, microseconds, Redis clock) of quota i.
-- ARGV[2i-1]: emission interval of quota i (us); ARGV[2i]: its burst (requests).
-- Returns how long (us) the caller must wait before sending: the permit is reserved now,
-- at the earliest instant every quota allows it, so callers queue in arrival order
-- without polling.
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = now
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now) or now
  if tat < now then tat = now end
  tats[i] = tat
  local allowed = tat + interval - burst * interval
  if allowed > at then at = allowed end
end
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local tat = tats[i]
  if tat < at then tat = at end
  local new_tat = tat + interval
  local ttl_ms = math.ceil((new_tat - now) / 1000) + 1000
  redis.call('SET', KEYS[i], string.format('%.0f', new_tat), 'PX', string.format('%.0f', ttl_ms))
end
return string.format('%.0f', at - now)
