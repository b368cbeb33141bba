/**
 * The Lua scripts of `RedisPresence`, after Centrifugo's `presence_redis.go`: per topic a sorted
 * set (client id -> expiry, in Redis's own clock) and a hash (client id -> member as JSON), both
 * under one Redis Cluster hash tag. Each script changes both keys and publishes the change in one
 * atomic step, so every join and leave is announced exactly once.
 *
 * Common arguments: KEYS[1] the sorted set, KEYS[2] the hash; ARGV[1] the events channel,
 * ARGV[2] the topic as a JSON string.
 */

/** Redis's clock in ms: one clock for every instance, whatever theirs say. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const PUBLISH = `local function announce(joins, leaves)
  if #joins + #leaves == 0 then return end
  redis.call('PUBLISH', ARGV[1], '{"topic":' .. ARGV[2] .. ',"joins":[' .. table.concat(joins, ',')
    .. '],"leaves":[' .. table.concat(leaves, ',') .. ']}')
end`;

/**
 * Records members. ARGV[3] ttl ms, ARGV[4] key ttl ms, ARGV[5] '1' to announce every member (a
 * join) or '0' only those that were not there (a refresh, after a Redis restart or an expiry);
 * then client id, member JSON pairs. Returns how many were announced.
 */
export const JOIN_SCRIPT = `${NOW}
${PUBLISH}
local joins = {}
for i = 6, #ARGV, 2 do
  local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  if added == 1 or ARGV[5] == '1' then joins[#joins + 1] = ARGV[i + 1] end
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
announce(joins, {})
return #joins`;

/** Removes the member ARGV[3]; announces its leave if it was there. Returns 1 or 0. */
export const LEAVE_SCRIPT = `${PUBLISH}
local removed = redis.call('ZREM', KEYS[1], ARGV[3])
local member = redis.call('HGET', KEYS[2], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[3])
if removed == 1 and member then announce({}, { member }) end
return removed`;

/**
 * Removes the expired members (in chunks: Lua's unpack is bounded) and announces their leaves,
 * then answers ARGV[3]: 'list' the members as one JSON array (one reply to parse, not one per
 * member), else the count.
 */
export const READ_SCRIPT = `${NOW}
${PUBLISH}
local leaves = {}
while true do
  local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 500)
  if #expired == 0 then break end
  local members = redis.call('HMGET', KEYS[2], unpack(expired))
  redis.call('ZREM', KEYS[1], unpack(expired))
  redis.call('HDEL', KEYS[2], unpack(expired))
  for i = 1, #members do
    if members[i] then leaves[#leaves + 1] = members[i] end
  end
end
announce({}, leaves)
if ARGV[3] == 'list' then return '[' .. table.concat(redis.call('HVALS', KEYS[2]), ',') .. ']' end
return redis.call('ZCARD', KEYS[1])`;
