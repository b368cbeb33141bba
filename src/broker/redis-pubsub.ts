import type { Redis } from 'ioredis';

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
