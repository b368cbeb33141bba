import type { Redis, RedisOptions } from 'ioredis';
import { newEpoch } from '../history/stream-epoch.js';
import type { StreamRead } from '../interfaces/stream-position.interface.js';
import type { StreamLimits } from '../interfaces/websocket-broker.interface.js';
import { TickWriteBatch } from '../redis/ioredis.client.js';
import { createClient, type RedisTarget } from '../redis/redis-target.js';
import { raceTimeout, TIMED_OUT } from '../util/async.js';
import { decodeBrokerMessage } from './broker-message.codec.js';
import { redisReadTimedOutMessage } from './broker.messages.js';
import { DEFAULT_HISTORY_META_TTL_MS, type RedisBrokerOptions } from './redis-broker.options.js';
import { PUBLISH_SCRIPT, READ_SCRIPT, streamKeys } from './redis-streams.lua.js';

/** The two scripts, as `defineCommand` adds them to a client (Buffer replies: data stays bytes). */
interface StreamCommands {
  wsStreamPublish(...args: (string | Buffer | number)[]): Promise<number>;
  wsStreamReadBuffer(...args: (string | number)[]): Promise<[Buffer, number, [Buffer, Buffer[]][]]>;
}

/**
 * `RedisBroker`'s history on Redis: the client that runs the stream scripts, one per sequenced
 * publication (next offset, appended to the topic's stream, published with its position) and one
 * per read after an offset. It queues while Redis is away (ioredis's offline queue), so sequenced
 * publications wait for Redis; its outages are the Pub/Sub clients' too, which report them.
 */
export class RedisStreamsClient {
  /** One socket write per tick for the publications of that tick. */
  private readonly batch: TickWriteBatch;

  private constructor(
    private readonly client: Redis & StreamCommands,
    private readonly channel: string,
    private readonly options: RedisBrokerOptions,
  ) {
    this.batch = new TickWriteBatch(client);
  }

  /** Creates the client; it connects (and reconnects) by itself. */
  static async connect(
    target: RedisTarget,
    channel: string,
    options: RedisBrokerOptions,
    retryStrategy: RedisOptions['retryStrategy'],
  ): Promise<RedisStreamsClient> {
    // Publications wait for Redis however long it is away (ioredis's default drops queued commands
    // after 20 reconnection attempts, about 21 s); `redisOptions.maxRetriesPerRequest` bounds it.
    const client = (await createClient(target, {
      retryStrategy,
      maxRetriesPerRequest: null,
    })) as Redis & StreamCommands;
    client.defineCommand('wsStreamPublish', { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
    client.defineCommand('wsStreamRead', { numberOfKeys: 2, lua: READ_SCRIPT });
    client.on('error', ignore);
    return new RedisStreamsClient(client, channel, options);
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Calls `listener` on every `ready` (a resync reads the streams through this client). */
  onReady(listener: () => void): void {
    this.client.on('ready', listener);
  }

  /** Resolves once the client is ready (at once if it is). */
  whenReady(): Promise<void> {
    const client = this.client;
    return new Promise<void>((resolve) =>
      client.status === 'ready' ? resolve() : client.once('ready', resolve),
    );
  }

  /**
   * Appends an encoded publication of `topic` to its stream and publishes it on `topicChannel`
   * with `publish` (`PUBLISH` or `SPUBLISH`) with its position, in one script.
   */
  append(
    topic: string,
    encoded: Buffer,
    limits: StreamLimits,
    topicChannel: string,
    publish: string,
  ): Promise<number> {
    this.batch.hold();
    return this.client.wsStreamPublish(
      ...streamKeys(this.channel, topic),
      encoded,
      limits.size,
      limits.ttlMs,
      topicChannel,
      newEpoch(),
      publish,
      this.metaTtlMs(limits),
    );
  }

  /** Reads a topic's stream after offset `since` (see `WebSocketBroker.readStream`). */
  async read(
    topic: string,
    since: number,
    limit: number,
    limits: StreamLimits,
  ): Promise<StreamRead> {
    const keys = streamKeys(this.channel, topic);
    const [epoch, top, entries] = await answerWithin(
      this.client.wsStreamReadBuffer(...keys, since + 1, limit, this.metaTtlMs(limits), newEpoch()),
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

  /** Drops the connection for good; later errors are ignored. */
  disconnect(): void {
    this.client.removeAllListeners();
    this.client.on('error', ignore);
    this.client.disconnect();
  }

  /** The meta key's time to live: never shorter than the topic's history. */
  private metaTtlMs(limits: StreamLimits): number {
    return Math.max(limits.ttlMs, this.options.historyMetaTtlMs ?? DEFAULT_HISTORY_META_TTL_MS);
  }
}

/** `reply`, or a rejection once `timeoutMs` has passed without it (the reply is then ignored). */
async function answerWithin<T>(reply: Promise<T>, timeoutMs: number): Promise<T> {
  const answer = await raceTimeout(reply, timeoutMs);
  if (answer === TIMED_OUT) throw new Error(redisReadTimedOutMessage(timeoutMs));
  return answer;
}

function ignore(): void {}
