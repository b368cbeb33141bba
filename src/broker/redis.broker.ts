import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { StreamRead } from '../interfaces/stream-position.interface.js';
import type {
  BrokerMessage,
  BrokerStats,
  StreamLimits,
  WebSocketBroker,
} from '../interfaces/websocket-broker.interface.js';
import { RedisOutage } from '../redis/redis-outage.js';
import { redisTarget, type RedisTarget } from '../redis/redis-target.js';
import { raceTimeout, TIMED_OUT } from '../util/async.js';
import {
  decodeSequencedMessage,
  encodeBrokerMessage,
  isUnsequencedFrom,
} from './broker-message.codec.js';
import {
  redisLostMessage,
  redisRestoredMessage,
  redisUndeliveredMessage,
  redisUnreachableMessage,
} from './broker.messages.js';
import { checkRedisBrokerOptions, type RedisBrokerOptions } from './redis-broker.options.js';
import { RedisInterestPubSub } from './redis-interest.pubsub.js';
import { RedisStreamsClient } from './redis-streams.client.js';

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
  /** Publications and broadcasts, each topic on its own channel (interest routing). */
  private readonly pubsub: RedisInterestPubSub;
  /** Runs the history scripts; queues while Redis is away, so sequenced publications wait. */
  private streams: RedisStreamsClient | undefined;
  /** Set by the registry: called once subscribed again after an outage, or to a new topic. */
  onResync: ((topic?: string) => void) | undefined;
  /**
   * Armed again by every failure; when it fires, SETTLE_MS after the last one, an outage that no
   * `ready` ended (a Redis Cluster's shard came back, a refused command) ends if both clients are
   * up, and the followed topics' streams are read back.
   */
  private settleTimer: NodeJS.Timeout | undefined;
  private published = 0;
  private received = 0;
  private undelivered = 0;
  /** While Redis is unreachable; counts what was published meanwhile, for the log on recovery. */
  private readonly outage: RedisOutage;
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
    this.pubsub = new RedisInterestPubSub({
      channel: this.channel,
      routing: routing === 'interest',
      cluster: cluster !== undefined,
    });
    this.outage = new RedisOutage(this.logger, {
      lost: (cause) => redisLostMessage(this.url, cause),
      unreachable: (cause) => redisUnreachableMessage(this.url, cause),
      missed: () => redisUndeliveredMessage(this.url),
      restored: (undelivered) => redisRestoredMessage(this.url, undelivered),
    });
  }

  async start(deliver: (message: BrokerMessage) => void): Promise<void> {
    const { publisher, subscriber } = await this.pubsub.connect(this.target, retryStrategy);
    const streams = await RedisStreamsClient.connect(
      this.target,
      this.channel,
      this.options,
      retryStrategy,
    );
    this.streams = streams;
    this.pubsub.onMessage(subscriber, (bytes) => this.receive(bytes, deliver));
    const subscribedOnce = new Promise<void>((resolve) => {
      subscriber.on('ready', () => this.subscribeEverything(resolve));
    });
    const publisherReady = new Promise<void>((resolve) => publisher.once('ready', resolve));
    for (const client of [publisher, subscriber]) {
      client.on('error', (error: Error) => this.noteUnreachable(error));
      client.on('close', () => this.noteUnreachable());
    }
    publisher.on('ready', () => this.noteReachable());
    // The streams are read through their client: a resync waits for it too.
    streams.onReady(() => this.resync());
    // ... and so does bootstrap: a resume right after it must not find it still connecting.
    const streamsReady = streams.whenReady();
    subscriber.on('close', () => this.pubsub.noteClosed());
    // A Redis Cluster's node that went away (e.g. its sharded subscriber ended), even if it comes
    // back before any command fails: its channels may have missed publications meanwhile.
    subscriber.on('-node', () => this.noteUnreachable());
    await this.waitForConnection(Promise.all([subscribedOnce, publisherReady, streamsReady]));
  }

  /** Follows `topic`'s channel (interest routing), then has its stream read from the last offset. */
  topicJoined(topic: string): void {
    this.pubsub.follow(topic).then(
      // A publication may have passed before the subscription: history gives it back.
      (sent) => sent && this.pubsub.isFollowing(topic) && this.onResync?.(topic),
      (error: Error) => this.noteUnreachable(error),
    );
  }

  /** Stops following `topic`'s channel: no socket of this instance follows it any more. */
  topicLeft(topic: string): void {
    this.pubsub.unfollow(topic);
  }

  publish(message: BrokerMessage): void {
    if (message.kind === 'publish' && message.history !== undefined) {
      this.publishToStream(message, message.history);
      return;
    }
    const sent = this.pubsub.publish(message, this.instanceId);
    if (sent === undefined) this.countUndelivered();
    else sent.then(this.onPublished, this.onUndelivered);
  }

  /** Reads a topic's stream after offset `since` (see `WebSocketBroker.readStream`). */
  async readStream(
    topic: string,
    since: number,
    limit: number,
    limits: StreamLimits,
  ): Promise<StreamRead> {
    const streams = this.streams;
    if (streams === undefined || !streams.ready) throw new Error('Redis is not connected');
    return streams.read(topic, since, limit, limits);
  }

  stats(): BrokerStats {
    return {
      name: 'redis',
      // A Redis Cluster client stays `ready` while one of its shards is down: the outage says it.
      connected:
        this.pubsub.subscribed && this.pubsub.publisher?.status === 'ready' && !this.outage.ongoing,
      published: this.published,
      received: this.received,
      undelivered: this.undelivered,
    };
  }

  async stop(): Promise<void> {
    clearTimeout(this.settleTimer);
    const streams = this.streams;
    this.streams = undefined;
    this.pubsub.disconnect();
    streams?.disconnect();
  }

  /** On every `ready`: the broadcast channel and every followed topic's, then a resync. */
  private subscribeEverything(resolve: () => void): void {
    const subscriber = this.pubsub.subscriber;
    if (subscriber === undefined) return;
    this.pubsub.subscribeEverything(subscriber).then(
      () => {
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
    if ((await raceTimeout(ready, timeoutMs)) === TIMED_OUT) {
      this.outage.begin(`no connection within ${timeoutMs} ms`, true);
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
    const streams = this.streams;
    if (streams === undefined) {
      this.countUndelivered();
      return;
    }
    streams
      .append(
        message.topic,
        encodeBrokerMessage(message, this.instanceId),
        limits,
        this.pubsub.topicChannel(message.topic),
        this.pubsub.mode.publish,
      )
      .then(this.onPublished, this.onUndelivered);
  }

  private countUndelivered(): void {
    this.armSettle();
    this.undelivered++;
    this.outage.miss();
  }

  private noteUnreachable(error?: Error): void {
    this.armSettle();
    if (this.pubsub.publisher === undefined) return;
    this.outage.begin(error?.message ?? 'connection closed');
  }

  private noteReachable(): void {
    if (!this.pubsub.subscribed || this.pubsub.publisher?.status !== 'ready') return;
    this.outage.end();
  }

  /** Once subscribed and able to read the streams: the registry reads what passed meanwhile. */
  private resync(): void {
    if (this.pubsub.subscribed && this.streams?.ready) this.onResync?.();
  }

  private armSettle(): void {
    if (this.pubsub.publisher === undefined) return;
    if (this.settleTimer !== undefined) this.settleTimer.refresh();
    else this.settleTimer = setTimeout(() => this.settle(), SETTLE_MS).unref();
  }

  /** No failure for SETTLE_MS: an outage still open while both clients are up has ended. */
  private settle(): void {
    this.settleTimer = undefined;
    if (!this.outage.ongoing) return;
    this.noteReachable();
    if (!this.outage.ongoing) this.resync();
  }
}

/**
 * How long without a failure before an outage that no `ready` ended counts as over: longer than
 * ioredis's longest wait between two attempts of a Redis Cluster's sharded subscribers (2 s and
 * a quarter of jitter), which fail again on every attempt while their shard is away.
 */
const SETTLE_MS = 3000;

function retryStrategy(attempt: number): number {
  return Math.min(attempt * 100, 2000);
}
