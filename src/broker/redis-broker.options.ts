import type { RedisClusterNode } from '../redis/ioredis.client.js';
import { invalidRedisBrokerOptionMessage, redisClusterRoutingMessage } from './broker.messages.js';

/** Options of `new RedisBroker(options)`. */
export interface RedisBrokerOptions {
  /** The Redis server, e.g. `process.env.REDIS_URL`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * The Pub/Sub channel the instances of one application share, also the prefix of the history
   * keys (`<channel>:{<topic>}:stream`, `<channel>:{<topic>}:meta`). Default `'nestjs-ws-routes'`.
   */
  channel?: string;
  /** More options for the `ioredis` clients (`new Redis(url, redisOptions)`; on a cluster, each node's), e.g. TLS. */
  redisOptions?: Record<string, unknown>;
  /**
   * A Redis Cluster instead of `url`: its startup nodes, e.g. `[{ host: '10.0.0.1', port: 6379 }]`
   * (ioredis `Cluster`). Topics then use sharded Pub/Sub (`SSUBSCRIBE`/`SPUBLISH`, Redis 7) on the
   * shard of their hash tag, and their streams spread over the shards the same way. Needs
   * `routing: 'interest'`. Default: none (a standalone Redis). Throws a `TypeError` for an empty
   * list or a node that is not `{ host, port }`, an `Error` if `url` is given too.
   */
  cluster?: RedisClusterNode[];
  /**
   * `'interest'` (default): each topic has its own channel (`<channel>:{<topic>}`), which an
   * instance subscribes to while one of its sockets follows the topic, so an instance receives only
   * the publications of its topics plus broadcasts (on `channel`); one `SUBSCRIBE` per topic and
   * instance. `'single-channel'`: everything on `channel`, every instance receives everything (the
   * only design of earlier versions; keep it while upgrading instances one by one, as both sides
   * must use the same). Interest routing is after socket.io's sharded adapter. Any other value
   * throws a `TypeError`.
   */
  routing?: 'interest' | 'single-channel';
  /**
   * How long bootstrap waits for Redis before going on without it (and retrying). Default 5000 ms;
   * a value that is not a number from 0 to 2147483647 throws a `TypeError`.
   */
  connectTimeoutMs?: number;
  /**
   * How long a history read (a resume's `subscribe(topic, { since })`, a gap being healed) waits
   * for Redis, in ms. A Redis that is connected but does not answer (paused, overloaded) would
   * otherwise hold the resume for as long as it lasts; past this, the resume resolves
   * `recovered: false`, reason `'unavailable'`, and the connection gets the live publications.
   * Default 5000 ms; a value that is not a number from 0 to 2147483647 throws a `TypeError`.
   */
  readTimeoutMs?: number;
  /**
   * How long a topic's position (its epoch and top offset, the meta key) is kept after its last
   * publication, in ms; its publications are kept for the topic's `ttlMs` only. A topic quiet for
   * longer than its `ttlMs` then goes on in the same epoch: its subscribers lose nothing (the next
   * publication is the next offset), and a resume from before the gap gets `'too-old'`, not
   * `'epoch'`. A topic that is read but was never published (a subscription) gets its meta for
   * this long too. Default 2592000000 (30 days, Centrifugo's `history_meta_ttl`); a value that is
   * not an integer from 1 to 2^53 - 1 throws a `TypeError`.
   */
  historyMetaTtlMs?: number;
}

/** `historyMetaTtlMs`'s default: 30 days, as Centrifugo's `history_meta_ttl`. */
export const DEFAULT_HISTORY_META_TTL_MS = 30 * 24 * 3600 * 1000;

/** The options `checkRedisBrokerOptions` looks at, as plain JavaScript may give them. */
interface UncheckedOptions {
  routing?: unknown;
  cluster?: unknown;
  connectTimeoutMs?: unknown;
  readTimeoutMs?: unknown;
  historyMetaTtlMs?: unknown;
}

/**
 * Refuses, at construction, the `RedisBroker` options it could only misread later: a `routing`
 * other than the two (a typo would silently mean another design), a `connectTimeoutMs`,
 * `readTimeoutMs` or `historyMetaTtlMs` that is not a time, and single-channel routing on a
 * cluster. (`url` and `cluster` are checked by `redisTarget`.)
 */
export function checkRedisBrokerOptions(options: UncheckedOptions): void {
  const { routing, cluster } = options;
  if (routing !== undefined && routing !== 'interest' && routing !== 'single-channel')
    throw new TypeError(
      invalidRedisBrokerOptionMessage(
        'routing',
        routing,
        "'interest' (the default) or 'single-channel'",
      ),
    );
  for (const name of ['connectTimeoutMs', 'readTimeoutMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 2 ** 31 - 1))
      throw new TypeError(
        invalidRedisBrokerOptionMessage(name, value, 'milliseconds from 0 to 2147483647'),
      );
  }
  const { historyMetaTtlMs: metaTtl } = options;
  if (metaTtl !== undefined && !(Number.isSafeInteger(metaTtl) && (metaTtl as number) >= 1))
    throw new TypeError(
      invalidRedisBrokerOptionMessage(
        'historyMetaTtlMs',
        metaTtl,
        'an integer of milliseconds >= 1',
      ),
    );
  if (cluster !== undefined && routing === 'single-channel')
    throw new Error(redisClusterRoutingMessage);
}
