import { topicKeyBase } from '../redis/redis-hash-tag.js';

/**
 * The Redis broker's Lua scripts, after Centrifugo's `broker_redis.go`: per topic a meta HASH
 * (`e` epoch, `s` top offset) and a STREAM whose entry ids are `<offset>-0`. Both keys of a topic
 * share the hash tag `{topic}`, so one script touches one Redis Cluster slot.
 *
 * A topic without meta starts a new epoch, and its stream is deleted then: a stream that outlived
 * its meta (the meta evicted under `maxmemory`, or deleted) holds the lost epoch's entries, which
 * would be replayed as the new epoch's offsets and make `XADD` of the next offsets fail (an id
 * not above the stream's top) until the offsets passed the old ones.
 */

/**
 * Appends a publication and publishes it, atomically, so history and live delivery never
 * disagree. KEYS: stream, meta. ARGV: encoded message, MAXLEN, the stream's ttl (ms), channel,
 * epoch to use if the topic has none, `publish` or `spublish` (Redis Cluster: the topic's channel
 * carries the same hash tag as its keys, so the script stays on one slot), the meta's ttl (ms; as
 * Centrifugo's `history_meta_ttl`, longer than the stream's, so a quiet topic keeps its epoch).
 * Publishes `S<epoch>:<offset>:<message>`; returns the offset. A new epoch starts with an empty
 * stream.
 */
export const PUBLISH_SCRIPT = `
local epoch = redis.call('hget', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[5]
  redis.call('del', KEYS[1])
  redis.call('hset', KEYS[2], 'e', epoch)
end
local offset = redis.call('hincrby', KEYS[2], 's', 1)
redis.call('xadd', KEYS[1], 'MAXLEN', ARGV[2], offset .. '-0', 'd', ARGV[1])
redis.call('pexpire', KEYS[1], ARGV[3])
redis.call('pexpire', KEYS[2], ARGV[7])
redis.call(ARGV[6], ARGV[4], 'S' .. epoch .. ':' .. offset .. ':' .. ARGV[1])
return offset
`;

/**
 * Reads a topic's stream. KEYS: stream, meta. ARGV: first offset to read, how many (0: none), the
 * meta's ttl (ms), epoch to set if the topic has none (so a position given now stays valid).
 * Returns `{ epoch, top, entries }`. A new epoch starts with an empty stream.
 */
export const READ_SCRIPT = `
local epoch = redis.call('hget', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[4]
  redis.call('del', KEYS[1])
  redis.call('hset', KEYS[2], 'e', epoch)
  redis.call('pexpire', KEYS[2], ARGV[3])
end
local top = tonumber(redis.call('hget', KEYS[2], 's') or '0')
local entries = {}
if ARGV[2] ~= '0' then
  entries = redis.call('xrange', KEYS[1], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
end
return {epoch, top, entries}
`;

/** The keys of one topic: `<prefix>:{<topic>}:stream` and `<prefix>:{<topic>}:meta`. */
export function streamKeys(prefix: string, topic: string): [string, string] {
  const base = topicKeyBase(prefix, topic);
  return [`${base}:stream`, `${base}:meta`];
}
