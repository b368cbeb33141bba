import type { Redis, RedisOptions } from 'ioredis';
import type { BrokerMessage } from '../interfaces/websocket-broker.interface.js';
import { encodeBrokerMessage } from './broker-message.codec.js';
import { TickWriteBatch } from '../redis/ioredis.client.js';
import { topicKeyBase } from '../redis/redis-hash-tag.js';
import { createClient, type RedisTarget } from '../redis/redis-target.js';
import { PLAIN, type PubSubMode, SHARDED, subscribeAll, unsubscribeOne } from './redis-pubsub.js';

/** Where `RedisInterestPubSub` publishes and subscribes. */
export interface InterestChannels {
  /** The shared channel, also the prefix of each topic's channel. */
  channel: string;
  /** `true`: each topic on its own channel (interest routing); `false`: everything on `channel`. */
  routing: boolean;
  /** On a Redis Cluster: sharded Pub/Sub, broadcasts on the channel's own hash tag. */
  cluster: boolean;
}

/**
 * `RedisBroker`'s Pub/Sub with interest routing: a publisher and a subscriber client; each topic
 * has its own channel (`<channel>:{<topic>}`), followed while one of this instance's sockets
 * follows the topic, and broadcasts go on one shared channel (after socket.io's sharded adapter).
 * On every `ready` the subscriber subscribes to the broadcast channel and every followed topic's
 * again (not ioredis's `autoResubscribe`, which would miss a first connection that failed).
 */
export class RedisInterestPubSub {
  readonly mode: PubSubMode;
  /** The channel of broadcasts (and of everything without interest routing). */
  private readonly broadcastChannel: string;
  /** The topics this instance follows (its sockets' subscriptions). */
  private readonly followed = new Set<string>();
  /** One socket write per tick for the publications of that tick. */
  private batch: TickWriteBatch | undefined;
  private subscribedNow = false;
  /** Set by `connect()`, cleared by `disconnect()`. */
  publisher: Redis | undefined;
  subscriber: Redis | undefined;

  constructor(private readonly channels: InterestChannels) {
    this.mode = channels.cluster ? SHARDED : PLAIN;
    // On a cluster, broadcasts go through one shard: the channel's own hash tag.
    this.broadcastChannel = channels.cluster ? `{${channels.channel}}` : channels.channel;
  }

  /** Creates both clients; they connect (and reconnect) by themselves. */
  async connect(
    target: RedisTarget,
    retryStrategy: RedisOptions['retryStrategy'],
  ): Promise<{ publisher: Redis; subscriber: Redis }> {
    // No offline queue: a publish while disconnected must fail now, not arrive late.
    const publisher = await createClient(target, { retryStrategy, enableOfflineQueue: false });
    // Subscribing again on every `ready` (not ioredis's autoResubscribe) also covers a first
    // connection that failed.
    const subscriber = await createClient(target, {
      retryStrategy,
      autoResubscribe: false,
      shardedSubscribers: true,
    });
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.batch = new TickWriteBatch(publisher);
    return { publisher, subscriber };
  }

  /** Whether the subscriber is subscribed to everything it follows (since its last `ready`). */
  get subscribed(): boolean {
    return this.subscribedNow;
  }

  /** Calls `listener` with every message's bytes, this instance's own included. */
  onMessage(subscriber: Redis, listener: (bytes: Buffer) => void): void {
    subscriber.on(this.mode.message, (_channel: Buffer, bytes: Buffer) => listener(bytes));
  }

  /** The subscriber's connection closed: subscribed again on its next `ready`. */
  noteClosed(): void {
    this.subscribedNow = false;
  }

  /** A topic's channel: `<channel>:{<topic>}`, the hash tag of its stream's keys (its slot). */
  topicChannel(topic: string): string {
    return this.channels.routing
      ? topicKeyBase(this.channels.channel, topic)
      : this.channels.channel;
  }

  isFollowing(topic: string): boolean {
    return this.followed.has(topic);
  }

  /**
   * Follows `topic`'s channel; resolves once subscribed, `false` when nothing was sent now (no
   * interest routing, already followed, or not subscribed: the next `ready` subscribes it).
   */
  follow(topic: string): Promise<boolean> {
    if (!this.channels.routing || this.followed.has(topic)) return Promise.resolve(false);
    this.followed.add(topic);
    const subscriber = this.subscriber;
    if (subscriber === undefined || !this.subscribedNow) return Promise.resolve(false); // `ready` subscribes it.
    return subscribeAll(subscriber, this.mode, [this.topicChannel(topic)]).then(() => true);
  }

  /** Stops following `topic`'s channel. */
  unfollow(topic: string): void {
    if (!this.followed.delete(topic)) return;
    // A standalone subscriber subscribes to `followed` again on `ready`; ioredis's sharded
    // subscribers resubscribe by themselves, so they must hear of the leave even meanwhile.
    const subscriber = this.subscriber;
    if (subscriber === undefined || (!this.subscribedNow && !this.mode.sharded)) return;
    unsubscribeOne(subscriber, this.mode, this.topicChannel(topic)).catch(ignore);
  }

  /** Subscribes to the broadcast channel and every followed topic's (on every `ready`). */
  async subscribeEverything(subscriber: Redis): Promise<void> {
    const topics = [...this.followed].map((topic) => this.topicChannel(topic));
    await subscribeAll(subscriber, this.mode, [this.broadcastChannel, ...topics]);
    this.subscribedNow = true;
  }

  /**
   * Publishes `message` on its channel, tagged with `instanceId`; undefined when the publisher is
   * not ready (nothing was sent).
   */
  publish(message: BrokerMessage, instanceId: Buffer): Promise<unknown> | undefined {
    const publisher = this.publisher;
    if (publisher === undefined || publisher.status !== 'ready') return undefined;
    const channel =
      message.kind === 'publish' ? this.topicChannel(message.topic) : this.broadcastChannel;
    this.batch?.hold();
    return publisher[this.mode.publish](channel, encodeBrokerMessage(message, instanceId));
  }

  /** Drops both connections for good; later errors are ignored. */
  disconnect(): void {
    const clients = [this.publisher, this.subscriber];
    this.publisher = this.subscriber = undefined;
    for (const client of clients) {
      client?.removeAllListeners();
      client?.on('error', ignore);
      client?.disconnect();
    }
  }
}

function ignore(): void {}
