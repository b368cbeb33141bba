import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { RedisCluster } from '../support/redis-cluster.js';

/**
 * What the Redis Cluster support of the broker rests on, checked on a real 3-master cluster:
 * ioredis's sharded Pub/Sub (`SSUBSCRIBE` on the shard that owns each channel's slot) reaches
 * channels on every shard, and subscribes again by itself when a shard restarts.
 */
describe.skipIf(skipWithoutRedisServer)(
  `Redis Cluster: ioredis sharded Pub/Sub${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    let cluster: RedisCluster;
    let publisher: Cluster;
    let subscriber: Cluster;
    const received = new Set<string>();
    // Hash tags spread the channels over the shards' slots.
    const channels = Array.from({ length: 30 }, (_, i) => `probe:{topic-${i}}`);

    beforeAll(async () => {
      cluster = await RedisCluster.start(3);
      publisher = new Cluster(cluster.addresses, { clusterRetryStrategy: () => 100 });
      subscriber = new Cluster(cluster.addresses, {
        shardedSubscribers: true,
        clusterRetryStrategy: () => 100,
      });
      // A restarted shard makes both clients report lost connections: expected here.
      publisher.on('error', () => {});
      subscriber.on('error', () => {});
      subscriber.on('smessage', (channel: string, message: string) =>
        received.add(`${channel}=${message}`),
      );
      for (const channel of channels) await subscriber.ssubscribe(channel);
    });

    afterAll(async () => {
      publisher?.disconnect();
      subscriber?.disconnect();
      await cluster?.stop();
    });

    async function publishRound(round: string): Promise<number> {
      for (const channel of channels) await publisher.spublish(channel, round).catch(() => 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return channels.filter((channel) => received.has(`${channel}=${round}`)).length;
    }

    it('spreads the channels over all three shards and delivers on each', async () => {
      const slots = await Promise.all(
        channels.map((channel) => publisher.cluster('KEYSLOT', channel) as Promise<number>),
      );
      const ranges = (await publisher.cluster('SLOTS')) as [number, number, [string, number]][];
      const owners = new Set(
        slots.map((slot) => ranges.find(([from, to]) => slot >= from && slot <= to)![2][1]),
      );
      expect(owners.size).toBe(3);
      expect(await publishRound('first')).toBe(channels.length);
    });

    it('delivers on every channel again after one shard restarts (no failover)', async () => {
      await cluster.restartNode(1);
      let delivered = 0;
      for (let attempt = 0; attempt < 50 && delivered < channels.length; attempt++) {
        delivered = await publishRound(`after-restart-${attempt}`);
      }
      expect(delivered).toBe(channels.length);
    });
  },
);
