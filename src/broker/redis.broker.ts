import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newEpoch } from '../history/stream-epoch.js';
import type { StreamRead } from '../interfaces/stream-position.interface.js';
import { TickWriteBatch, type RedisClusterNode } from '../redis/ioredis.client.js';
import { topicKeyBase } from '../redis/redis-hash-tag.js';
import { createClient, redisTarget, type RedisTarget } from '../redis/redis-target.js';
import {
  decodeBrokerMessage,
  decodeSequencedMessage,
  encodeBrokerMessage,
  isUnsequencedFrom,
} from './broker-message.codec.js';
import {
  redisLostMessage,
  redisReadTimedOutMessage,
  redisRestoredMessage,
  redisUndeliveredMessage,
  redisUnreachableMessage,
} from './broker.messages.js';
import { checkRedisBrokerOptions } from './redis-broker.options.js';
import { raceTimeout, TIMED_OUT } from '../util/async.js';
import { PUBLISH_SCRIPT, READ_SCRIPT, streamKeys } from './redis-streams.lua.js';
import { PLAIN, type PubSubMode, SHARDED, subscribeAll, unsubscribeOne } from './redis-pubsub.js';
import type {
  BrokerMessage,
  BrokerStats,
  StreamLimits,
  WebSocketBroker,
} from '../interfaces/websocket-broker.interface.js';

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
const DEFAULT_HISTORY_META_TTL_MS = 30 * 24 * 3600 * 1000;

/** The two scripts, as `defineCommand` adds them to a client (Buffer replies: data stays bytes). */
interface StreamCommands {
  wsStreamPublish(...args: (string | Buffer | number)[]): Promise<number>;
  wsStreamReadBuffer(...args: (string | number)[]): Promise<[Buffer, number, [Buffer, Buffer[]][]]>;
}

/**
 * Carries `publish` and `broadcast` to every instance connected to the same Redis (or Redis
 * Cluster), over Redis Pub/Sub; each message is tagged with this instance's id, which ignores its
 * own. By default (`routing: 'interest'`) a topic's publications go to the topic's own channel,
 * which only the instances whose sockets follow the topic subscribe to (subscribed when the first
 * local socket subscribes, unsubscribed when the last leaves, never on the publish path), and
 * broadcasts to one shared channel. Needs the optional peer dependency `ioredis` (5 or 6; 5.9 or
 * later for a cluster), loaded only when a `RedisBroker` starts.
 *
 * Topics with history (`WsModule.forRoot({ history })`) are sequenced by Redis: one Lua script
 * per publication increments the topic's offset, appends it to the topic's Redis Stream (entry id
 * `<offset>-0`, `MAXLEN` size, expiry `ttlMs`) and publishes it tagged with offset and epoch, so
 * every instance, the publishing one included, delivers it in the same order (Centrifugo's
 * layout). Those publications wait for Redis while it is unreachable, however long (ioredis's
 * offline queue; `redisOptions.maxRetriesPerRequest` bounds it); on a Redis Cluster, those of a
 * shard that is down are retried for about 2 s, then counted as undelivered.
 *
 * Redis Pub/Sub delivers at most once: an instance that is disconnected when a message passes
 * misses it. While this instance cannot reach Redis, its own sockets are still served; what it
 * publishes meanwhile is counted in `stats().undelivered` and logged, and it reconnects by itself;
 * then it reads the streams of the topics with history it follows from their last offset. An
 * outage that no reconnection ends (a cluster's shard, a refused command) ends after 3 s without
 * a failure.
 *
 * @example
 * ```ts
 * WsModule.forRoot({ broker: new RedisBroker({ url: process.env.REDIS_URL }) })
 * ```
 */
export class RedisBroker implements WebSocketBroker {
  private readonly logger = new Logger('RedisBroker');
  /** Tags this instance's messages, so that it ignores them when Redis echoes them back. */
  private readonly instanceId = randomBytes(16);
  private readonly url: string;
  private readonly channel: string;
  private readonly target: RedisTarget;
  private readonly mode: PubSubMode;
  private readonly routing: boolean;
  /** The channel of broadcasts (and of everything with `routing: 'single-channel'`). */
  private readonly broadcastChannel: string;
  /** The topics this instance follows (its sockets' subscriptions), for interest routing. */
  private readonly followed = new Set<string>();
  private publisher: Redis | undefined;
  private subscriber: Redis | undefined;
  /** Runs the history scripts; queues while Redis is away, so sequenced publications wait. */
  private sequencer: (Redis & StreamCommands) | undefined;
  /** One socket write per tick for the publications of that tick (publisher, sequencer). */
  private publishBatch: TickWriteBatch | undefined;
  private sequencerBatch: TickWriteBatch | undefined;
  /** Set by the registry: called once subscribed again after an outage, or to a new topic. */
  onResync: ((topic?: string) => void) | undefined;
  private subscribed = false;
  /**
   * Armed again by every failure; when it fires, SETTLE_MS after the last one, an outage that no
   * `ready` ended (a Redis Cluster's shard came back, a refused command) ends if both clients are
   * up, and the followed topics' streams are read back.
   */
  private settleTimer: NodeJS.Timeout | undefined;
  private everConnected = false;
  private published = 0;
  private received = 0;
  private undelivered = 0;
  /** Set while Redis is unreachable: what was published since, for the log on recovery. */
  private outage: { undelivered: number } | undefined;
  /** A publication's outcome, made once rather than two closures per publication. */
  private readonly onPublished = (): void => {
    this.published++;
  };
  private readonly onUndelivered = (): void => this.countUndelivered();

  constructor(private readonly options: RedisBrokerOptions = {}) {
    this.target = redisTarget('RedisBroker', options);
    checkRedisBrokerOptions(options);
    const { cluster, routing = 'interest' } = options;
    this.channel = options.channel ?? 'nestjs-ws-routes';
    this.url = this.target.url;
    this.mode = cluster === undefined ? PLAIN : SHARDED;
    this.routing = routing === 'interest';
    // On a cluster, broadcasts go through one shard: the channel's own hash tag.
    this.broadcastChannel = cluster === undefined ? this.channel : `{${this.channel}}`;
  }

  async start(deliver: (message: BrokerMessage) => void): Promise<void> {
    // No offline queue: a publish while disconnected must fail now, not arrive late.
    const publisher = await createClient(this.target, { retryStrategy, enableOfflineQueue: false });
    // Subscribing again on every `ready` (not ioredis's autoResubscribe) also covers a first
    // connection that failed.
    const subscriber = await createClient(this.target, {
      retryStrategy,
      autoResubscribe: false,
      shardedSubscribers: true,
    });
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.sequencer = await createSequencer(this.target);
    this.publishBatch = new TickWriteBatch(publisher);
    this.sequencerBatch = new TickWriteBatch(this.sequencer);
    subscriber.on(this.mode.message, (_channel: Buffer, bytes: Buffer) =>
      this.receive(bytes, deliver),
    );
    const subscribedOnce = new Promise<void>((resolve) => {
      subscriber.on('ready', () => this.subscribeEverything(subscriber, resolve));
    });
    const publisherReady = new Promise<void>((resolve) => publisher.once('ready', resolve));
    for (const client of [publisher, subscriber]) {
      client.on('error', (error: Error) => this.noteUnreachable(error));
      client.on('close', () => this.noteUnreachable());
    }
    publisher.on('ready', () => this.noteReachable());
    // The streams are read through the sequencer: a resync waits for it too.
    this.sequencer.on('ready', () => this.resync());
    // ... and so does bootstrap: a resume right after it must not find it still connecting.
    const sequencer = this.sequencer;
    const sequencerReady = new Promise<void>((resolve) =>
      sequencer.status === 'ready' ? resolve() : sequencer.once('ready', resolve),
    );
    subscriber.on('close', () => (this.subscribed = false));
    // A Redis Cluster's node that went away (e.g. its sharded subscriber ended), even if it comes
    // back before any command fails: its channels may have missed publications meanwhile.
    subscriber.on('-node', () => this.noteUnreachable());
    await this.waitForConnection(Promise.all([subscribedOnce, publisherReady, sequencerReady]));
  }

  /** Follows `topic`'s channel (interest routing), then has its stream read from the last offset. */
  topicJoined(topic: string): void {
    if (!this.routing || this.followed.has(topic)) return;
    this.followed.add(topic);
    const subscriber = this.subscriber;
    if (subscriber === undefined || !this.subscribed) return; // `ready` subscribes it.
    subscribeAll(subscriber, this.mode, [this.topicChannel(topic)]).then(
      // A publication may have passed before the subscription: history gives it back.
      () => this.followed.has(topic) && this.onResync?.(topic),
      (error: Error) => this.noteUnreachable(error),
    );
  }

  /** Stops following `topic`'s channel: no socket of this instance follows it any more. */
  topicLeft(topic: string): void {
    if (!this.followed.delete(topic)) return;
    const subscriber = this.subscriber;
    // A standalone subscriber subscribes to `followed` again on `ready`; ioredis's sharded
    // subscribers resubscribe by themselves, so they must hear of the leave even meanwhile.
    if (subscriber === undefined || (!this.subscribed && !this.mode.sharded)) return;
    unsubscribeOne(subscriber, this.mode, this.topicChannel(topic)).catch(ignore);
  }

  publish(message: BrokerMessage): void {
    if (message.kind === 'publish' && message.history !== undefined) {
      this.publishToStream(message, message.history);
      return;
    }
    const publisher = this.publisher;
    if (publisher === undefined || publisher.status !== 'ready') {
      this.countUndelivered();
      return;
    }
    const channel =
      message.kind === 'publish' ? this.topicChannel(message.topic) : this.broadcastChannel;
    this.publishBatch?.hold();
    publisher[this.mode.publish](channel, encodeBrokerMessage(message, this.instanceId)).then(
      this.onPublished,
      this.onUndelivered,
    );
  }

  /** Reads a topic's stream after offset `since` (see `WebSocketBroker.readStream`). */
  async readStream(
    topic: string,
    since: number,
    limit: number,
    limits: StreamLimits,
  ): Promise<StreamRead> {
    const client = this.sequencer;
    if (client === undefined || client.status !== 'ready')
      throw new Error('Redis is not connected');
    const keys = streamKeys(this.channel, topic);
    const [epoch, top, entries] = await answerWithin(
      client.wsStreamReadBuffer(...keys, since + 1, limit, this.metaTtlMs(limits), newEpoch()),
      this.options.readTimeoutMs ?? 5000,
    );
    const publications = [];
    for (const [id, fields] of entries) {
      const decoded = decodeBrokerMessage(fields[1]);
      if (decoded?.message.kind !== 'publish') continue;
      publications.push({
        offset: parseInt(id.toString('latin1'), 10),
        data: decoded.message.data,
      });
    }
    return { epoch: epoch.toString('latin1'), top: Number(top), publications };
  }

  stats(): BrokerStats {
    return {
      name: 'redis',
      // A Redis Cluster client stays `ready` while one of its shards is down: the outage says it.
      connected: this.subscribed && this.publisher?.status === 'ready' && this.outage === undefined,
      published: this.published,
      received: this.received,
      undelivered: this.undelivered,
    };
  }

  async stop(): Promise<void> {
    clearTimeout(this.settleTimer);
    const clients = [this.publisher, this.subscriber, this.sequencer];
    this.publisher = this.subscriber = this.sequencer = undefined;
    for (const client of clients) {
      client?.removeAllListeners();
      client?.on('error', ignore);
      client?.disconnect();
    }
  }

  /** A topic's channel: `<channel>:{<topic>}`, the hash tag of its stream's keys (its slot). */
  private topicChannel(topic: string): string {
    return this.routing ? topicKeyBase(this.channel, topic) : this.channel;
  }

  /** On every `ready`: the broadcast channel and every followed topic's, then a resync. */
  private subscribeEverything(subscriber: Redis, resolve: () => void): void {
    const topics = [...this.followed].map((topic) => this.topicChannel(topic));
    subscribeAll(subscriber, this.mode, [this.broadcastChannel, ...topics]).then(
      () => {
        this.subscribed = true;
        this.noteReachable();
        // Also on the first `ready`: sockets may have subscribed while Redis was not there yet.
        this.resync();
        resolve();
      },
      (error: Error) => this.noteUnreachable(error),
    );
  }

  /** Bootstrap waits for Redis at most `connectTimeoutMs`, then goes on (and keeps trying). */
  private async waitForConnection(ready: Promise<unknown>): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    if ((await raceTimeout(ready, timeoutMs)) === TIMED_OUT && this.outage === undefined) {
      this.outage = { undelivered: 0 };
      this.logger.warn(redisUnreachableMessage(this.url, `no connection within ${timeoutMs} ms`));
    }
  }

  private receive(bytes: Buffer, deliver: (message: BrokerMessage) => void): void {
    // Its own publications come back from Redis (the channel is subscribed here too): dropped
    // before decoding. A sequenced publication reaches every instance, this one included.
    if (isUnsequencedFrom(bytes, this.instanceId)) return;
    const decoded = decodeSequencedMessage(bytes);
    if (decoded === undefined) return;
    if (!decoded.origin.equals(this.instanceId)) this.received++;
    deliver(decoded.message);
  }

  private publishToStream(
    message: BrokerMessage & { kind: 'publish' },
    limits: StreamLimits,
  ): void {
    const client = this.sequencer;
    if (client === undefined) {
      this.countUndelivered();
      return;
    }
    this.sequencerBatch?.hold();
    client
      .wsStreamPublish(
        ...streamKeys(this.channel, message.topic),
        encodeBrokerMessage(message, this.instanceId),
        limits.size,
        limits.ttlMs,
        this.topicChannel(message.topic),
        newEpoch(),
        this.mode.publish,
        this.metaTtlMs(limits),
      )
      .then(this.onPublished, this.onUndelivered);
  }

  /** The meta key's time to live: never shorter than the topic's history. */
  private metaTtlMs(limits: StreamLimits): number {
    return Math.max(limits.ttlMs, this.options.historyMetaTtlMs ?? DEFAULT_HISTORY_META_TTL_MS);
  }

  private countUndelivered(): void {
    this.armSettle();
    this.undelivered++;
    if (this.outage === undefined) this.outage = { undelivered: 0 };
    if (this.outage.undelivered++ === 0) this.logger.warn(redisUndeliveredMessage(this.url));
  }

  private noteUnreachable(error?: Error): void {
    this.armSettle();
    if (this.outage !== undefined || this.publisher === undefined) return;
    this.outage = { undelivered: 0 };
    const cause = error?.message ?? 'connection closed';
    this.logger.warn(
      this.everConnected
        ? redisLostMessage(this.url, cause)
        : redisUnreachableMessage(this.url, cause),
    );
  }

  private noteReachable(): void {
    const outage = this.outage;
    if (!this.subscribed || this.publisher?.status !== 'ready') return;
    this.everConnected = true;
    if (outage === undefined) return;
    this.outage = undefined;
    this.logger.log(redisRestoredMessage(this.url, outage.undelivered));
  }

  /** Once subscribed and able to read the streams: the registry reads what passed meanwhile. */
  private resync(): void {
    if (this.subscribed && this.sequencer?.status === 'ready') this.onResync?.();
  }

  private armSettle(): void {
    if (this.publisher === undefined) return;
    if (this.settleTimer !== undefined) this.settleTimer.refresh();
    else this.settleTimer = setTimeout(() => this.settle(), SETTLE_MS).unref();
  }

  /** No failure for SETTLE_MS: an outage still open while both clients are up has ended. */
  private settle(): void {
    this.settleTimer = undefined;
    if (this.outage === undefined) return;
    this.noteReachable();
    if (this.outage === undefined) this.resync();
  }
}

/**
 * How long without a failure before an outage that no `ready` ended counts as over: longer than
 * ioredis's longest wait between two attempts of a Redis Cluster's sharded subscribers (2 s and
 * a quarter of jitter), which fail again on every attempt while their shard is away.
 */
const SETTLE_MS = 3000;

/** The client that runs the history scripts; it queues while Redis is away (offline queue). */
async function createSequencer(target: RedisTarget): Promise<Redis & StreamCommands> {
  // Publications wait for Redis however long it is away (ioredis's default drops queued commands
  // after 20 reconnection attempts, about 21 s); `redisOptions.maxRetriesPerRequest` bounds it.
  const sequencer = (await createClient(target, {
    retryStrategy,
    maxRetriesPerRequest: null,
  })) as Redis & StreamCommands;
  sequencer.defineCommand('wsStreamPublish', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
  sequencer.defineCommand('wsStreamRead', { numberOfKeys: 2, lua: READ_SCRIPT });
  // Its outages are the publisher's and subscriber's too, which log them.
  sequencer.on('error', ignore);
  return sequencer;
}

/** `reply`, or a rejection once `timeoutMs` has passed without it (the reply is then ignored). */
async function answerWithin<T>(reply: Promise<T>, timeoutMs: number): Promise<T> {
  const answer = await raceTimeout(reply, timeoutMs);
  if (answer === TIMED_OUT) throw new Error(redisReadTimedOutMessage(timeoutMs));
  return answer;
}

function retryStrategy(attempt: number): number {
  return Math.min(attempt * 100, 2000);
}

function ignore(): void {}
