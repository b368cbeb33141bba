import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  closeRedis,
  clusterServing,
  isCommandTimeout,
  redisScript,
  restSubscriberWhileDown,
  runScript,
  type RedisClusterNode,
} from '../redis/ioredis.client.js';
import { topicKeyBase } from '../redis/redis-hash-tag.js';
import { RedisOutage } from '../redis/redis-outage.js';
import { createClient, redisTarget, type RedisTarget } from '../redis/redis-target.js';
import type {
  PresenceEvent,
  PresenceMember,
  PresenceStats,
  WebSocketPresence,
} from '../interfaces/presence.interface.js';
import { raceTimeout } from '../util/async.js';
import {
  presenceEventMalformedMessage,
  presenceHeartbeatInvalidMessage,
  presenceLostMessage,
  presenceRestoredMessage,
  presenceUnavailableMessage,
} from './presence.messages.js';
import { JOIN_SCRIPT, LEAVE_SCRIPT, READ_SCRIPT } from './presence.scripts.js';

/** Options of `new RedisPresence(options)`. */
export interface RedisPresenceOptions {
  /** The Redis server, e.g. `process.env.REDIS_URL`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * A Redis Cluster (Redis 7 or later) instead of `url`: its startup nodes, e.g.
   * `[{ host: '10.0.0.1', port: 6379 }]` (ioredis `Cluster`; needs ioredis 5.9 or later, else
   * bootstrap fails saying so), the same as `RedisBroker`'s `cluster`. Each topic's keys live on
   * the shard of its hash tag; events still reach every instance (plain `PUBLISH`, which the
   * cluster carries to every node). Default: none (a standalone Redis). Throws a `TypeError` for an
   * empty list or a node that is not `{ host, port }`, an `Error` if `url` is given too.
   */
  cluster?: RedisClusterNode[];
  /**
   * Start of every key and of the events channel; the instances of one application share it.
   * Keys are `<prefix>:{<topic>}:presence` (sorted set) and `<prefix>:{<topic>}:presence:info`
   * (hash; a topic that is empty or starts with `}`: `<prefix>:}{@}<topic>:presence...`, as in
   * `RedisBroker`), the channel `<prefix>:presence`. Default `'nestjs-ws-routes'`.
   */
  prefix?: string;
  /**
   * How often each instance records its members again (ms). A member's entry expires 1.5 periods
   * after it was last recorded, and every instance removes expired entries every quarter period,
   * so the members of an instance that died are out of `list()` within 1.5 periods and reported
   * as leaves within 1.75 (documented: within 2). Default 10000; from 10 to 2^31 - 1, else
   * `new RedisPresence()` throws a `RangeError`.
   */
  heartbeatMs?: number;
  /**
   * More options for both `ioredis` clients (`new Redis(url, redisOptions)`; on a cluster, each
   * node's), e.g. TLS. Its
   * `commandTimeout` (ms, default here 5000) bounds how long a command waits for a Redis that is
   * connected but does not answer (paused, overloaded): then it fails as if Redis were away.
   */
  redisOptions?: Record<string, unknown>;
  /** How long bootstrap waits for Redis before going on without it (and retrying). Default 5000 ms. */
  connectTimeoutMs?: number;
}

const JOIN = redisScript(JOIN_SCRIPT);
const LEAVE = redisScript(LEAVE_SCRIPT);
const READ = redisScript(READ_SCRIPT);
/**
 * Default `commandTimeout` of the commands client: a hung Redis (SIGSTOP, a stalled network)
 * keeps the connection open, so without it a join, a list and shutdown would wait for ever.
 */
const COMMAND_TIMEOUT_MS = 5000;
/** The longest delay Node's timers take. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Members recorded per script call when re-asserting: bounds each call's arguments. */
const BATCH = 500;

/**
 * Cluster-wide presence on one Redis, after Centrifugo: per topic a sorted set of client ids
 * scored by expiry and a hash of members, refreshed by the instance that holds each connection
 * every `heartbeatMs`, expired entries removed (and announced as leaves) by every instance that
 * follows the topic. Joins and leaves travel on one Pub/Sub channel to every instance.
 *
 * - A connection that closes or leaves is removed at once and announced.
 * - An instance that dies (SIGKILL, a lost machine) stops refreshing: its members are out of
 *   `list()` within 1.5 x `heartbeatMs` and announced as leaves within 2 x `heartbeatMs`.
 * - A Redis restart (empty) or an expiry while this instance was cut off: each instance records
 *   its live members again shortly after it reconnects (a quarter period at most), and at least
 *   every `heartbeatMs`; those that were missing are announced as joins. Like every Redis Pub/Sub
 *   message, an announcement made while an instance is not subscribed is missed by it:
 *   `list()` is the truth.
 * - While Redis is away, `join`/`leave` resolve at once (applied once it is back) and
 *   `list`/`count` reject with a clear error; while it is connected but does not answer (paused,
 *   overloaded), the same after `redisOptions.commandTimeout` (default 5000 ms), shutdown included.
 *
 * Every key of a topic carries the topic as a Redis Cluster hash tag, so each script touches one
 * slot: on a Redis Cluster (`cluster`) topics spread over the shards. A shard that is away
 * affects its own topics (every topic once Redis's `cluster-node-timeout` has passed, unless the
 * nodes run `cluster-require-full-coverage no`): their `list`/`count` reject (after about 1 s of
 * the cluster client's retries), their joins and leaves resolve then; the shard's return is
 * noticed within a quarter period and its topics' members recorded again. Needs the optional
 * peer dependency `ioredis` (5.x or 6.x; 5.9 or later for a cluster).
 *
 * @example
 * ```ts
 * WsModule.forRoot({ presence: new RedisPresence({ url: process.env.REDIS_URL }) })
 * ```
 */
export class RedisPresence implements WebSocketPresence {
  private readonly logger = new Logger('RedisPresence');
  private readonly target: RedisTarget;
  private readonly url: string;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly heartbeatMs: number;
  /** This instance's members: topic -> client id -> member as JSON. */
  private readonly own = new Map<string, Map<string, string>>();
  /** Topics with members elsewhere, swept here too until they are empty. */
  private readonly watched = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Topics whose sweep is on its way: a slow shard gets one at a time. */
  private readonly sweeping = new Set<string>();
  private client: Redis | undefined;
  private subscriber: Redis | undefined;
  private timers: NodeJS.Timeout[] = [];
  private subscribed = false;
  private ownMembers = 0;
  /** Logged once when Redis goes away, and when the members are recorded again after. */
  private readonly outage: RedisOutage;
  /** The last command timed out: Redis is connected but not answering (paused, overloaded). */
  private unanswered = false;
  /** On a cluster: the last check found a shard away (its client stays `ready` meanwhile). */
  private shardAway = false;
  private checkingShards = false;

  constructor(private readonly options: RedisPresenceOptions = {}) {
    this.target = redisTarget('RedisPresence', options);
    this.url = this.target.url;
    this.prefix = options.prefix ?? 'nestjs-ws-routes';
    this.channel = `${this.prefix}:presence`;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.outage = new RedisOutage(this.logger, {
      lost: (cause) => presenceLostMessage(this.url, cause),
      restored: () => presenceRestoredMessage(this.url, this.ownMembers),
    });
    // Past 2^31 - 1 ms Node's timers fire every 1 ms instead: the refresh would flood Redis.
    const heartbeatMs: unknown = this.heartbeatMs;
    if (typeof heartbeatMs !== 'number' || !(heartbeatMs >= 10 && heartbeatMs <= MAX_TIMER_MS)) {
      throw new RangeError(presenceHeartbeatInvalidMessage(options.heartbeatMs));
    }
  }

  async start(emit: (event: PresenceEvent) => void): Promise<void> {
    const retryStrategy = (attempt: number) => Math.min(attempt * 50, this.retryCapMs);
    // No offline queue: a command while disconnected fails now; the refresh applies it later.
    const client = await createClient(this.target, {
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy,
      enableOfflineQueue: false,
    });
    // A cluster's subscriber moves to another node by itself when its node goes away.
    const subscriber = await createClient(this.target, { retryStrategy, autoResubscribe: false });
    this.client = client;
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, text: string) => this.receive(text, emit));
    const subscribedOnce = new Promise<void>((resolve) =>
      subscriber.on('ready', () => {
        subscriber.subscribe(this.channel).then(() => {
          this.subscribed = true;
          resolve();
        }, ignore);
      }),
    );
    const clientReady = new Promise<void>((resolve) =>
      client.on('ready', () => {
        if (this.outage.ongoing) this.reassertSoon();
        resolve();
      }),
    );
    for (const redis of [client, subscriber]) {
      redis.on('error', (error: Error) => this.noteLost(error.message));
      redis.on('close', () => this.noteLost('connection closed'));
    }
    subscriber.on('close', () => (this.subscribed = false));
    if (this.target.cluster !== undefined) restSubscriberWhileDown(client, subscriber);
    this.timers = [
      setInterval(() => this.reassertAll(), this.heartbeatMs),
      setInterval(() => this.sweepAll(), this.heartbeatMs / 4),
    ];
    for (const timer of this.timers) timer.unref();
    await waitAtMost(Promise.all([subscribedOnce, clientReady]), this.options.connectTimeoutMs);
  }

  join(topic: string, member: PresenceMember): Promise<void> {
    let members = this.own.get(topic);
    if (!members) this.own.set(topic, (members = new Map()));
    if (!members.has(member.clientId)) this.ownMembers++;
    const json = JSON.stringify(member);
    members.set(member.clientId, json);
    return this.write(JOIN, topic, [this.ttlMs, this.keyTtlMs, '1', member.clientId, json]);
  }

  leave(topic: string, clientId: string): Promise<void> {
    const members = this.own.get(topic);
    if (!members?.delete(clientId)) return Promise.resolve();
    this.ownMembers--;
    if (members.size === 0) this.own.delete(topic);
    return this.write(LEAVE, topic, [clientId]);
  }

  async list(topic: string): Promise<PresenceMember[]> {
    return JSON.parse((await this.read(topic, 'list')) as string) as PresenceMember[];
  }

  async count(topic: string): Promise<number> {
    return (await this.read(topic, 'count')) as number;
  }

  stats(): PresenceStats {
    const connected =
      this.subscribed && this.client?.status === 'ready' && !this.unanswered && !this.shardAway;
    return { name: 'redis', connected, members: this.ownMembers };
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    // The leaves of the connections that shutdown closed are on their way: let them arrive.
    await Promise.allSettled(this.pending);
    const [client, subscriber] = [this.client, this.subscriber];
    this.client = this.subscriber = undefined;
    // Nothing else to flush: drop both connections (a hung Redis would not answer a QUIT).
    await Promise.all([closeRedis(client, false), closeRedis(subscriber, false)]);
  }

  /** Longest wait between reconnection attempts: well under a period, so Redis is found within one. */
  private get retryCapMs(): number {
    return Math.min(2000, Math.max(50, this.heartbeatMs / 4));
  }

  private get ttlMs(): number {
    return Math.round(this.heartbeatMs * 1.5);
  }

  /** Keys of a topic nobody refreshes any more vanish by themselves. */
  private get keyTtlMs(): number {
    return this.ttlMs * 4;
  }

  private keys(topic: string): [string, string] {
    const zset = `${topicKeyBase(this.prefix, topic)}:presence`;
    return [zset, `${zset}:info`];
  }

  /** A change: applied now if Redis is there, else by the next refresh (or expiry). */
  private write(script: typeof JOIN, topic: string, args: (string | number)[]): Promise<void> {
    const client = this.client;
    if (client?.status !== 'ready') return Promise.resolve();
    const done = runScript(client, script, this.keys(topic), [
      this.channel,
      JSON.stringify(topic),
      ...args,
    ]).then(this.noteAnswer, this.noteFailure);
    this.pending.add(done);
    void done.then(() => this.pending.delete(done));
    return done;
  }

  private read(topic: string, answer: 'list' | 'count'): Promise<unknown> {
    const client = this.client;
    if (client?.status !== 'ready') {
      return Promise.reject(new Error(presenceUnavailableMessage(this.url)));
    }
    const args = [this.channel, JSON.stringify(topic), answer];
    return runScript(client, READ, this.keys(topic), args).then(
      (value) => {
        this.noteAnswer();
        return value;
      },
      (error: unknown) => {
        this.noteFailure(error);
        // Redis answered with an error: a fault of ours, not an outage. Anything else (lost while
        // the command was on its way, a socket that closed before ioredis noticed, no answer in
        // time) means Redis cannot be reached: say so the same way.
        if ((error as Error | undefined)?.name === 'ReplyError' && !isCommandTimeout(error))
          throw error;
        throw new Error(presenceUnavailableMessage(this.url), { cause: error });
      },
    );
  }

  private receive(text: string, emit: (event: PresenceEvent) => void): void {
    let event: PresenceEvent;
    try {
      event = JSON.parse(text) as PresenceEvent;
      if (typeof event.topic !== 'string' || !Array.isArray(event.joins)) throw new TypeError();
    } catch {
      this.logger.warn(presenceEventMalformedMessage(this.channel));
      return;
    }
    if (event.joins.length > 0) this.watched.add(event.topic);
    emit(event);
  }

  /** Records every member of this instance again; announces those Redis had lost. */
  private reassertAll(): void {
    const client = this.client;
    if (client?.status !== 'ready') return;
    for (const [topic, members] of this.own) {
      const entries = [...members];
      for (let at = 0; at < entries.length; at += BATCH) {
        const args: (string | number)[] = [this.ttlMs, this.keyTtlMs, '0'];
        for (const [clientId, json] of entries.slice(at, at + BATCH)) args.push(clientId, json);
        void this.write(JOIN, topic, args);
      }
    }
    if (!this.shardAway) this.outage.end();
  }

  /** After an outage, give the other instances a moment to subscribe again and hear the joins. */
  private reassertSoon(): void {
    setTimeout(() => this.reassertAll(), this.retryCapMs).unref();
  }

  /** Removes expired entries of every topic followed here, which announces their leaves. */
  private sweepAll(): void {
    if (this.client?.status !== 'ready') return;
    this.checkShards();
    for (const topic of new Set([...this.own.keys(), ...this.watched])) {
      if (this.sweeping.has(topic)) continue;
      this.sweeping.add(topic);
      this.read(topic, 'count')
        .then((count) => {
          if (count === 0 && !this.own.has(topic)) this.watched.delete(topic);
        }, ignore)
        .finally(() => this.sweeping.delete(topic));
    }
  }

  /**
   * On a cluster, whether every shard serves: one that is away makes `connected` false (and is
   * logged); once all serve again, this instance's members are recorded again.
   */
  private checkShards(): void {
    const client = this.client;
    if (this.target.cluster === undefined || client === undefined || this.checkingShards) return;
    this.checkingShards = true;
    // A check that fails outright (the client closed under it) counts as a shard away.
    void clusterServing(client)
      .catch(() => false)
      .then((serving) => {
        this.checkingShards = false;
        if (this.client !== client) return;
        const wasAway = this.shardAway;
        this.shardAway = !serving;
        if (!serving) this.noteLost('a shard does not serve its slots');
        else if (wasAway) this.reassertSoon();
      });
  }

  // Commands go on regularly (every heartbeat's refresh and sweep): `connected` follows them.
  private readonly noteAnswer = (): void => {
    this.unanswered = false;
  };

  private readonly noteFailure = (error: unknown): void => {
    if (isCommandTimeout(error)) this.unanswered = true;
  };

  private noteLost(cause: string): void {
    if (this.client !== undefined) this.outage.begin(cause);
  }
}

/** Resolves when `ready` does, or after `timeoutMs` (default 5000): bootstrap goes on without Redis. */
async function waitAtMost(ready: Promise<unknown>, timeoutMs = 5000): Promise<void> {
  await raceTimeout(ready, timeoutMs);
}

function ignore(): void {}
