import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { redisClientMissingMessage, redisClusterClientTooOldMessage } from './redis.messages.js';

/** `ioredis`'s client class, as both 5.x and 6.x export it. */
export type RedisConstructor = new (url: string, options: RedisOptions) => Redis;

/**
 * Loads the optional peer dependency `ioredis` on first use (named export in 5.x and 6.x, default
 * export before); throws a message that says how to install it.
 */
export async function loadRedis(): Promise<RedisConstructor> {
  try {
    const module = await import('ioredis');
    return (module.Redis ?? module.default) as unknown as RedisConstructor;
  } catch (error) {
    throw new Error(redisClientMissingMessage((error as Error).message), { cause: error });
  }
}

/** A Lua script and its SHA1, for `EVALSHA` with `EVAL` as the fallback. */
export interface RedisScript {
  source: string;
  sha: string;
}

export function redisScript(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Runs `script` by its SHA1, sending its source only when the server does not know it yet (a
 * new or restarted Redis). Plain `EVALSHA`/`EVAL` commands: the same on ioredis 5 and 6.
 */
export async function runScript(
  client: Redis,
  script: RedisScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
    return client.eval(script.source, keys.length, ...keys, ...args);
  }
}

/** Whether `error` is ioredis's `commandTimeout` expiring: Redis is connected but does not answer. */
export function isCommandTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
}

/**
 * Disconnects a client for good, whatever state it is in; later errors are ignored. `quit`:
 * `false` drops the connection at once, without a QUIT a hung Redis would never answer.
 */
export async function closeRedis(client: Redis | undefined, quit = true): Promise<void> {
  if (client === undefined) return;
  client.removeAllListeners();
  client.on('error', () => {});
  if (client.status !== 'ready' || !quit) {
    client.disconnect();
    return;
  }
  await client.quit().catch(() => client.disconnect());
}

/** A Redis Cluster node to start from, in ioredis's (and Redis's) terms. */
export interface RedisClusterNode {
  host: string;
  port: number;
}

/**
 * `ioredis`'s `Cluster`, typed as a plain client: both share ioredis's command set, and callers use
 * only what both have (commands, `defineCommand`, `status`, events).
 */
export type RedisClusterConstructor = new (
  nodes: RedisClusterNode[],
  options: Record<string, unknown>,
) => Redis;

/**
 * Loads `ioredis`'s `Cluster` class, like `loadRedis`; throws unless it is 5.9 or later, the first
 * whose sharded subscribers subscribe again after a shard restarts.
 */
export async function loadCluster(): Promise<RedisClusterConstructor> {
  let Cluster: RedisClusterConstructor;
  try {
    const module = await import('ioredis');
    Cluster = (module.Cluster ?? module.default.Cluster) as unknown as RedisClusterConstructor;
  } catch (error) {
    throw new Error(redisClientMissingMessage((error as Error).message), { cause: error });
  }
  checkClusterClientVersion(createRequire(import.meta.url)('ioredis/package.json').version);
  return Cluster;
}

/** Throws for an ioredis version older than 5.9 (see `loadCluster`). */
export function checkClusterClientVersion(version: string): void {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < 5 || (major === 5 && minor < 9))
    throw new Error(redisClusterClientTooOldMessage(version));
}

/**
 * Whether every master that owns slots of a Redis Cluster answers and serves them
 * (`cluster_state:ok`; a restarted master refuses commands with `CLUSTERDOWN` for about 2 s after
 * it accepts connections). ioredis's `Cluster` stays `ready` while a shard is away, so this asks
 * each shard: one `CLUSTER INFO` each, through `Cluster`'s public `slots` (slot -> node keys,
 * master first) and `nodes('master')`. A shard the client dropped from its pool counts as away.
 */
export async function clusterServing(client: Redis): Promise<boolean> {
  const cluster = client as unknown as Cluster;
  const owners = new Set(cluster.slots.map((nodes) => nodes[0]));
  const masters = new Map(
    cluster.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]),
  );
  const answers = [...owners].map((key) => {
    const node = key === undefined ? undefined : masters.get(key);
    if (node === undefined) return false;
    return node.cluster('INFO').then(
      (info) => String(info).includes('cluster_state:ok'),
      () => false,
    );
  });
  return owners.size > 0 && (await Promise.all(answers)).every(Boolean);
}

/**
 * On a Redis Cluster: stops `subscriber` while `client` (on the same cluster) has lost every node,
 * and starts it again once `client` is back. ioredis's cluster subscriber picks another node as
 * soon as its connection ends, without a pause, so while no node answers it reconnects in a tight
 * loop (a whole core, thousands of connections a second); `client` retries at its own pace.
 */
export function restSubscriberWhileDown(client: Redis, subscriber: Redis): void {
  client.on('close', () => {
    if (subscriber.status !== 'end') subscriber.disconnect();
  });
  client.on('ready', () => {
    if (subscriber.status === 'end') subscriber.connect().catch(() => {});
  });
}

/**
 * Coalesces what one standalone client writes during a tick into one socket write: the first
 * command of a tick corks the client's socket (`net.Socket.cork()`), a `process.nextTick` uncorks
 * it, and Node hands the queued commands to the kernel in one `writev` system call instead of one
 * `write` each. The commands, their order and their replies are ioredis's as before. ioredis writes
 * each command to its socket at once (`Redis.stream`, public in its typings, the one internal
 * reached here); its own
 * `enableAutoPipelining` would batch too, but through a pipeline object, more promises per command
 * and a wait for each batch's replies before the next. A Redis Cluster client has no single
 * socket: nothing is batched there.
 */
export class TickWriteBatch {
  private corked = false;

  constructor(private readonly client: Redis) {}

  /** Called before each command: holds the socket's writes until the end of this tick. */
  hold(): void {
    if (this.corked) return;
    const stream = (this.client as { stream?: Partial<Redis['stream']> }).stream;
    if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
    stream.cork();
    this.corked = true;
    process.nextTick(() => {
      this.corked = false;
      stream.uncork?.();
    });
  }
}
