"""The Lua scripts of the flood budget shared in Redis: acquire, hold, heartbeat.

``bot.flood.budget_redis`` runs them and describes the keys; acquire and hold decide as
``LocalBudget`` (``bot.flood.budget``) does.

Each script reads the time from Redis (TIME), so that every replica decides on one clock.
Only tests pass "now" themselves, as one ARGV after those a script expects: then the
script decides at that instant, and a test advances its clock instead of sleeping. Key
expiries stay on Redis's own clock either way.
"""

_COMMON = """
-- Redis's time, unless the caller passed "now" (tests) after the script's n arguments.
local function clock(n)
  if #ARGV > n then return tonumber(ARGV[n + 1]) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
-- Times go to Redis as text: Lua's own tostring keeps only 14 digits, and a number
-- returned to the client would be cut to an integer.
local function fmt(x) return string.format('%.6f', x) end
local function ms(seconds) return math.max(1, math.ceil(seconds * 1000)) end
local function register(key, id, now, stale)
  redis.call('ZADD', key, fmt(now), id)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - stale))
  redis.call('PEXPIRE', key, ms(stale))
  return redis.call('ZCARD', key)
end
-- A private chat's key holds its last send and the one before it: "last before".
local function sends(key)
  local v = redis.call('GET', key)
  if not v then return nil, nil end
  local last, before = string.match(v, '^(%S+) ?(%S*)$')
  return tonumber(last), tonumber(before)
end
local function in_window(key, now, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - window))
  return redis.call('ZCARD', key)
end
"""

# KEYS: global hold, chat hold, chat's sends (last or window), pace, replicas, waiting replies,
#       the pace's grants in the last second
# ARGV: group?, chat gap or window, group count, pace interval, replica id, stale,
#       pace idle, sequence number (keeps a group's entries distinct), catch-up credit,
#       reply? ('1': a person's reply, '0': a digest), how long a waiting reply keeps its claim,
#       the most grants the pace allows in any second; tests only: now
ACQUIRE = (
    _COMMON
    + """
local now = clock(12)
local replicas = register(KEYS[5], ARGV[5], now, tonumber(ARGV[6]))
local reply = ARGV[10] == '1'
local ticket = ARGV[5] .. '/' .. tostring(KEYS[3])
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', fmt(now))
local group = ARGV[1] == '1'
local limit = tonumber(ARGV[2])
local wait, scope = (tonumber(redis.call('GET', KEYS[1])) or 0) - now, 'global'
-- The largest wait wins; on a tie "global", as max() over (wait, scope) does locally.
local function consider(w, s)
  if w > wait or (w == wait and s == 'global') then wait, scope = w, s end
end
consider((tonumber(redis.call('GET', KEYS[2])) or 0) - now, 'chat')
if group then
  if in_window(KEYS[3], now, limit) >= tonumber(ARGV[3]) then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    consider(tonumber(oldest[2]) + limit - now, 'chat')
  end
else
  local last = sends(KEYS[3])
  if last then consider(last + limit - now, 'chat') end
end
local free_at = tonumber(redis.call('GET', KEYS[4])) or 0
consider(free_at - now, 'global')
-- Catching up never bunches more grants into one second than the window's cap.
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', fmt(now - 1))
if redis.call('ZCARD', KEYS[7]) >= tonumber(ARGV[12]) then
  local oldest = redis.call('ZRANGE', KEYS[7], 0, 0, 'WITHSCORES')
  consider(tonumber(oldest[2]) + 1 - now, 'global')
end
-- Replies have a lane of their own across replicas: a reply that waits for the shared pace
-- claims the next free slot, and no replica's digest takes a slot while a claim stands.
if not reply and wait <= 0 and redis.call('ZCARD', KEYS[6]) > 0 then
  consider(tonumber(ARGV[4]), 'global')
end
if wait > 0 then
  if reply and scope == 'global' then
    local until_ = now + wait + tonumber(ARGV[11])
    redis.call('ZADD', KEYS[6], fmt(until_), ticket)
    redis.call('PEXPIRE', KEYS[6], ms(until_ - now))
  end
  return {fmt(wait), scope, replicas}
end
if reply then redis.call('ZREM', KEYS[6], ticket) end
redis.call('ZADD', KEYS[7], fmt(now), ARGV[5] .. '/' .. ARGV[8])
redis.call('PEXPIRE', KEYS[7], 1000)
free_at = math.max(free_at, now - tonumber(ARGV[9])) + tonumber(ARGV[4])
redis.call('SET', KEYS[4], fmt(free_at), 'PX', ms(free_at - now + tonumber(ARGV[7])))
if group then
  redis.call('ZADD', KEYS[3], fmt(now), fmt(now) .. '/' .. ARGV[5] .. '/' .. ARGV[8])
  redis.call('PEXPIRE', KEYS[3], ms(limit))
else
  -- Kept for twice the gap: hold() asks whether the chat sent that recently.
  local last = sends(KEYS[3])
  local value = fmt(now)
  if last then value = value .. ' ' .. fmt(last) end
  redis.call('SET', KEYS[3], value, 'PX', ms(2 * limit))
end
return {'0', '', replicas}
"""
)

# KEYS: global hold, chat hold, chat's sends
# ARGV: group?, chat gap or window, group count, seconds; tests only: now
HOLD = (
    _COMMON
    + """
local now = clock(4)
local limit = tonumber(ARGV[2])
local near
if ARGV[1] == '1' then
  near = in_window(KEYS[3], now, limit) >= tonumber(ARGV[3]) - 1
else
  -- The last send is the one that got the 429: the chat's limit is at stake only if
  -- another came shortly before it.
  local _, before = sends(KEYS[3])
  near = before ~= nil and now - before < 2 * limit
end
local key, scope = KEYS[1], 'global'
if near then key, scope = KEYS[2], 'chat' end
local until_ = now + tonumber(ARGV[4])
-- Only ever extended: a shorter 429 that comes later must not release the hold early.
if until_ > (tonumber(redis.call('GET', key)) or 0) then
  redis.call('SET', key, fmt(until_), 'PX', ms(until_ - now))
end
return scope
"""
)

# KEYS: replicas; ARGV: replica id, stale; tests only: now
BEAT = (
    _COMMON
    + """
return register(KEYS[1], ARGV[1], clock(2), tonumber(ARGV[2]))
"""
)
