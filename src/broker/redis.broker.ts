import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { newEpoch } from '../history/memory-streams.js';
import type { StreamRead } from '../interfaces/stream-position.interface.js';
import {
  decodeBrokerMessage,
  decodeSequencedMessage,
  encodeBrokerMessage,
} from './broker-message.codec.js';
import {
  redisClientMissingMessage,
  redisLostMessage,
  redisRestoredMessage,
  redisUndeliveredMessage,
  redisUnreachableMessage,
} from './broker.messages.js';
import { PUBLISH_SCRIPT, READ_SCRIPT, streamKeys } from './redis-streams.lua.js';
import type {
  BrokerMessage,
  BrokerStats,
  StreamLimits,
  WebSocketBroker,
} from './websocket-broker.interface.js';

/** Options of `new RedisBroker(options)`. */
export interface RedisBrokerOptions {
  /** The Redis server, e.g. `process.env.REDIS_URL`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * The Pub/Sub channel the instances of one application share, also the prefix of the history
   * keys (`<channel>:{<topic>}:stream`, `<channel>:{<topic>}:meta`). Default `'nestjs-ws-routes'`.
   */
  channel?: string;
  /** More options for both `ioredis` clients (`new Redis(url, redisOptions)`), e.g. TLS. */
  redisOptions?: Record<string, unknown>;
  /** How long bootstrap waits for Redis before going on without it (and retrying). Default 5000 ms. */
  connectTimeoutMs?: number;
}

type RedisConstructor = new (url: string, options: RedisOptions) => Redis;

/** The two scripts, as `defineCommand` adds them to a client (Buffer replies: data stays bytes). */
interface StreamCommands {
  wsStreamPublish(...args: (string | Buffer | number)[]): Promise<number>;
  wsStreamReadBuffer(...args: (string | number)[]): Promise<[Buffer, number, [Buffer, Buffer[]][]]>;
}

/**
 * Carries `publish` and `broadcast` to every instance connected to the same Redis, over Redis
 * Pub/Sub (one channel; each message tagged with this instance's id, which ignores its own).
 * Needs the optional peer dependency `ioredis` (5 or 6), loaded only when a `RedisBroker` starts.
 *
 * Topics with history (`WsModule.forRoot({ history })`) are sequenced by Redis: one Lua script
 * per publication increments the topic's offset, appends it to the topic's Redis Stream (entry id
 * `<offset>-0`, `MAXLEN` size, expiry `ttlMs`) and publishes it tagged with offset and epoch, so
 * every instance, the publishing one included, delivers it in the same order (Centrifugo's
 * layout). Those publications wait for Redis while it is unreachable, however long (ioredis's
 * offline queue; `redisOptions.maxRetriesPerRequest` bounds it).
 *
 * Redis Pub/Sub delivers at most once: an instance that is disconnected when a message passes
 * misses it. While this instance cannot reach Redis, its own sockets are still served; what it
 * publishes meanwhile is counted in `stats().undelivered` and logged, and it reconnects by itself.
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
  private publisher: Redis | undefined;
  private subscriber: Redis | undefined;
  /** Runs the history scripts; queues while Redis is away, so sequenced publications wait. */
  private sequencer: (Redis & StreamCommands) | undefined;
  private everSubscribed = false;
  /** Set by the registry: called once subscribed again after an outage. */
  onResync: (() => void) | undefined;
  private subscribed = false;
  private everConnected = false;
  private published = 0;
  private received = 0;
  private undelivered = 0;
  /** Set while Redis is unreachable: what was published since, for the log on recovery. */
  private outage: { undelivered: number } | undefined;

  constructor(private readonly options: RedisBrokerOptions = {}) {
    this.url = options.url ?? 'redis://127.0.0.1:6379';
    this.channel = options.channel ?? 'nestjs-ws-routes';
  }

  async start(deliver: (message: BrokerMessage) => void): Promise<void> {
    const Redis = await loadRedis();
    const common: RedisOptions = {
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      ...this.options.redisOptions,
    };
    // No offline queue: a publish while disconnected must fail now, not arrive late.
    const publisher = new Redis(this.url, { ...common, enableOfflineQueue: false });
    // Subscribing again on every `ready` (not ioredis's autoResubscribe) also covers a first
    // connection that failed.
    const subscriber = new Redis(this.url, { ...common, autoResubscribe: false });
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.sequencer = createSequencer(Redis, this.url, common);
    const channel = this.channel;
    subscriber.on('messageBuffer', (_channel: Buffer, bytes: Buffer) =>
      this.receive(bytes, deliver),
    );
    const subscribedOnce = new Promise<void>((resolve) => {
      subscriber.on('ready', () => {
        subscriber.subscribe(channel).then(
          () => {
            this.subscribed = true;
            this.noteReachable();
            if (this.everSubscribed) this.onResync?.();
            this.everSubscribed = true;
            resolve();
          },
          (error: Error) => this.noteUnreachable(error),
        );
      });
    });
    const publisherReady = new Promise<void>((resolve) => publisher.once('ready', resolve));
    for (const client of [publisher, subscriber]) {
      client.on('error', (error: Error) => this.noteUnreachable(error));
      client.on('close', () => this.noteUnreachable());
    }
    publisher.on('ready', () => this.noteReachable());
    subscriber.on('close', () => (this.subscribed = false));
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, true);
    });
    const ready = Promise.all([subscribedOnce, publisherReady]).then(() => false);
    if ((await Promise.race([ready, timedOut])) && this.outage === undefined) {
      this.outage = { undelivered: 0 };
      this.logger.warn(redisUnreachableMessage(this.url, `no connection within ${timeoutMs} ms`));
    }
    clearTimeout(timer);
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
    publisher.publish(this.channel, encodeBrokerMessage(message, this.instanceId)).then(
      () => this.published++,
      () => this.countUndelivered(),
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
    const [epoch, top, entries] = await client.wsStreamReadBuffer(
      ...keys,
      since + 1,
      limit,
      limits.ttlMs,
      newEpoch(),
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
      connected: this.subscribed && this.publisher?.status === 'ready',
      published: this.published,
      received: this.received,
      undelivered: this.undelivered,
    };
  }

  async stop(): Promise<void> {
    const clients = [this.publisher, this.subscriber, this.sequencer];
    this.publisher = this.subscriber = this.sequencer = undefined;
    for (const client of clients) {
      client?.removeAllListeners();
      client?.on('error', ignore);
      client?.disconnect();
    }
  }

  private receive(bytes: Buffer, deliver: (message: BrokerMessage) => void): void {
    const decoded = decodeSequencedMessage(bytes);
    if (decoded === undefined) return;
    // A sequenced publication reaches every instance, this one included.
    const sequenced = decoded.message.kind === 'publish' && decoded.message.position !== undefined;
    const own = decoded.origin.equals(this.instanceId);
    if (own && !sequenced) return;
    if (!own) this.received++;
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
    client
      .wsStreamPublish(
        ...streamKeys(this.channel, message.topic),
        encodeBrokerMessage(message, this.instanceId),
        limits.size,
        limits.ttlMs,
        this.channel,
        newEpoch(),
      )
      .then(
        () => this.published++,
        () => this.countUndelivered(),
      );
  }

  private countUndelivered(): void {
    this.undelivered++;
    if (this.outage === undefined) this.outage = { undelivered: 0 };
    if (this.outage.undelivered++ === 0) this.logger.warn(redisUndeliveredMessage(this.url));
  }

  private noteUnreachable(error?: Error): void {
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
}

async function loadRedis(): Promise<RedisConstructor> {
  try {
    const module = await import('ioredis');
    return (module.Redis ?? module.default) as unknown as RedisConstructor;
  } catch (error) {
    throw new Error(redisClientMissingMessage((error as Error).message), { cause: error });
  }
}

/** The client that runs the history scripts; it queues while Redis is away (offline queue). */
function createSequencer(
  Redis: RedisConstructor,
  url: string,
  options: RedisOptions,
): Redis & StreamCommands {
  // Publications wait for Redis however long it is away (ioredis's default drops queued commands
  // after 20 reconnection attempts, about 21 s); `redisOptions.maxRetriesPerRequest` bounds it.
  const sequencer = new Redis(url, { maxRetriesPerRequest: null, ...options }) as Redis &
    StreamCommands;
  sequencer.defineCommand('wsStreamPublish', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
  sequencer.defineCommand('wsStreamRead', { numberOfKeys: 2, lua: READ_SCRIPT });
  // Its outages are the publisher's and subscriber's too, which log them.
  sequencer.on('error', ignore);
  return sequencer;
}

function ignore(): void {}
