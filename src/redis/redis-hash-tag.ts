/** `}`: Redis takes a hash tag from the first `{` to the next `}`, and an empty one as none. */
const CLOSING_BRACE = 0x7d;

/**
 * What a topic's keys (and, in `RedisBroker`, its channel) start with: `<prefix>:{<topic>}`, so
 * that its hash tag (its Redis Cluster slot) is the topic. A topic that is empty or starts with
 * `}` would give an empty tag, which Redis ignores (each key then has a slot of its own, and a
 * script on two of them fails with CROSSSLOT); those get `<prefix>:}{@}<topic>`, tag `@`, which no
 * other topic's name can produce (theirs have `{` after the prefix). Shared by `RedisBroker` and
 * `RedisPresence`.
 */
export function topicKeyBase(prefix: string, topic: string): string {
  if (topic.length === 0 || topic.charCodeAt(0) === CLOSING_BRACE) return `${prefix}:}{@}${topic}`;
  return `${prefix}:{${topic}}`;
}
