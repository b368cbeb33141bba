import type { Redis, RedisOptions } from 'ioredis';
import { loadCluster, loadRedis, type RedisClusterNode } from './ioredis.client.js';
import {
  clusterNodesExpected,
  invalidRedisOptionMessage,
  redisUrlAndClusterMessage,
} from './redis.messages.js';

/** Where a Redis store connects: one Redis server (`url`), or a Redis Cluster's startup nodes. */
export interface RedisTarget {
  /** The server's URL, or `cluster host:port,...`: how logs and errors name it. */
  url: string;
  cluster: RedisClusterNode[] | undefined;
  redisOptions: Record<string, unknown> | undefined;
}

/** The connection options `RedisBroker` and `RedisPresence` share, as plain JavaScript may give them. */
interface TargetOptions {
  url?: unknown;
  cluster?: unknown;
  redisOptions?: Record<string, unknown>;
}

/**
 * Checks and reads the `url`/`cluster` options of `owner` (`'RedisBroker'`, `'RedisPresence'`):
 * a `TypeError` for a `cluster` that lists no node as `{ host, port }`, an `Error` for both given
 * (which one was meant?). Neither: `redis://127.0.0.1:6379`.
 */
export function redisTarget(owner: string, options: TargetOptions): RedisTarget {
  const { cluster } = options;
  if (cluster === undefined) {
    const url = (options.url as string | undefined) ?? 'redis://127.0.0.1:6379';
    return { url, cluster: undefined, redisOptions: options.redisOptions };
  }
  if (!isNodeList(cluster))
    throw new TypeError(invalidRedisOptionMessage(owner, 'cluster', cluster, clusterNodesExpected));
  if (options.url !== undefined) throw new Error(redisUrlAndClusterMessage(owner));
  return {
    url: `cluster ${cluster.map(({ host, port }) => `${host}:${port}`).join(',')}`,
    cluster,
    redisOptions: options.redisOptions,
  };
}

function isNodeList(cluster: unknown): cluster is RedisClusterNode[] {
  return (
    Array.isArray(cluster) &&
    cluster.length > 0 &&
    cluster.every(
      (node) =>
        typeof node?.host === 'string' &&
        Number.isInteger(node.port) &&
        node.port > 0 &&
        node.port < 65536,
    )
  );
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
