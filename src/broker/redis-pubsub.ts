import type { Redis, RedisOptions } from 'ioredis';
import { loadCluster, loadRedis, type RedisClusterNode } from '../redis/ioredis.client.js';

/**
 * The Pub/Sub commands of a topology: plain Pub/Sub on a standalone Redis; sharded Pub/Sub
 * (`SPUBLISH`/`SSUBSCRIBE`, Redis 7) on a Redis Cluster, where each channel lives on the shard
 * that owns its slot (socket.io's sharded adapter does the same).
 */
export interface PubSubMode {
  sharded: boolean;
  publish: 'publish' | 'spublish';
  message: 'messageBuffer' | 'smessageBuffer';
}

export const PLAIN: PubSubMode = { sharded: false, publish: 'publish', message: 'messageBuffer' };
export const SHARDED: PubSubMode = {
  sharded: true,
  publish: 'spublish',
  message: 'smessageBuffer',
};

/** Where the broker connects: one Redis server (`url`), or a Redis Cluster's startup nodes. */
export interface RedisTarget {
  url: string;
  cluster: RedisClusterNode[] | undefined;
  redisOptions: Record<string, unknown> | undefined;
}

/**
 * Creates a client for `target`. `options` are ioredis's per-connection options; on a cluster they
 * go to every node (`redisOptions`), except the ones that are the cluster's own.
 */
export async function createClient(
  target: RedisTarget,
  options: RedisOptions & { shardedSubscribers?: boolean },
): Promise<Redis> {
  const common = { ...target.redisOptions };
  if (target.cluster === undefined) {
    const Redis = await loadRedis();
    const { shardedSubscribers, ...plain } = options;
    void shardedSubscribers;
    return new Redis(target.url, { ...plain, ...common });
  }
  const Cluster = await loadCluster();
  // ioredis's sharded subscribers subscribe again by themselves after a shard restarts.
  const { enableOfflineQueue, shardedSubscribers, retryStrategy, autoResubscribe, ...perNode } =
    options;
  void autoResubscribe;
  return new Cluster(target.cluster, {
    enableOfflineQueue,
    shardedSubscribers,
    clusterRetryStrategy: retryStrategy,
    redisOptions: { ...perNode, ...common },
  });
}

/** Subscribes `client` to `channels` (one command per channel on a cluster: each has its slot). */
export async function subscribeAll(
  client: Redis,
  mode: PubSubMode,
  channels: string[],
): Promise<void> {
  if (!mode.sharded) {
    await client.subscribe(...channels);
    return;
  }
  await Promise.all(channels.map((channel) => client.ssubscribe(channel)));
}

/** Unsubscribes `client` from one channel. */
export function unsubscribeOne(client: Redis, mode: PubSubMode, channel: string): Promise<unknown> {
  return mode.sharded ? client.sunsubscribe(channel) : client.unsubscribe(channel);
}
