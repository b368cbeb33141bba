import { Redis } from 'ioredis';
import { redisClusterRoutingMessage } from '../../src/broker/broker.messages.js';
import { RedisBroker, type BrokerMessage } from '../../src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { until } from '../support/app.js';
import { redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { stopInstances } from './history-instances.js';
import { expectResumeAcross, Publisher, startThreeInstances } from './history-workload.js';

const topics = (prefix: string) => Array.from({ length: 50 }, (_, i) => `${prefix}:topic:${i}`);

it('a Redis Cluster with single-channel routing is refused at construction, with the fix', () => {
  expect(
    () => new RedisBroker({ cluster: [{ host: '127.0.0.1', port: 1 }], routing: 'single-channel' }),
  ).toThrow(redisClusterRoutingMessage);
});

/**
 * The history issue's resume test (history-resume.e2e.spec.ts, three instances) on a real
 * 3-master Redis Cluster: topics on sharded Pub/Sub, streams spread over the shards by hash tag.
 */
describe.skipIf(skipWithoutRedisServer)(
  `RedisBroker on a 3-master Redis Cluster${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    let cluster: RedisCluster;
    let instances: Awaited<ReturnType<typeof startThreeInstances>> = [];

    beforeAll(async () => {
      cluster = await RedisCluster.start(3);
      const nodes = cluster.addresses.map(({ host, port }) => `${host}:${port}`).join(',');
      instances = await startThreeInstances({ REDIS_CLUSTER: nodes });
    });

    afterAll(async () => {
      await stopInstances(instances);
      await cluster?.stop();
    });

    it('every client gets each publication of its topics exactly once, in order; the streams are on every shard', async () => {
      await expectResumeAcross(
        instances.map((i) => i.base),
        topics('first'),
      );
      for (const { port } of cluster.addresses) {
        const node = new Redis(port, '127.0.0.1');
        expect(await node.dbsize()).toBeGreaterThan(0);
        node.disconnect();
      }
    }, 120_000);

    it('a broadcast on one instance reaches the sockets of every instance, once (SPUBLISH on one hash-tagged channel)', async () => {
      const sockets = await Promise.all(
        instances.map(
          ({ base }) =>
            new Promise<WebSocket>((resolve, reject) => {
              const socket = new WebSocket(`${base}/sub`);
              socket.once('open', () => resolve(socket));
              socket.once('error', reject);
            }),
        ),
      );
      const got = sockets.map(() => [] as string[]);
      sockets.forEach((socket, i) => socket.on('message', (data) => got[i]!.push(String(data))));
      const publisher = await Publisher.open(instances[0]!.base);
      publisher.broadcast('b:cluster', '/sub'); // the resuming clients of /h expect JSON
      await until(
        () => got.every((frames) => frames.length >= 1),
        5000,
        'the broadcast everywhere',
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(got).toEqual(sockets.map(() => ['b:cluster']));
      publisher.close();
      for (const socket of sockets) socket.terminate();
    });

    it("a topic that is empty or starts with '}' (no hash tag of its own) keeps its history and reaches its followers", async () => {
      const topics = ['', '}', '}x{y}'];
      const limits = { size: 10, ttlMs: 60_000 };
      const got: BrokerMessage[] = [];
      const confirmed = new Set<string>();
      const [follower, publisher] = [
        new RedisBroker({ cluster: cluster.addresses }),
        new RedisBroker({ cluster: cluster.addresses }),
      ];
      try {
        await follower.start((message) => got.push(message));
        await publisher.start(() => {});
        follower.onResync = (topic) => topic !== undefined && confirmed.add(topic);
        for (const topic of topics) follower.topicJoined(topic);
        await until(() => confirmed.size === topics.length, 5000, 'the topics subscribed');
        for (const topic of topics)
          publisher.publish({ kind: 'publish', topic, data: `h${topic}`, history: limits });
        await until(() => got.length === topics.length, 5000, 'the publications delivered');
        expect(publisher.stats().undelivered).toBe(0);
        for (const topic of topics) {
          const read = await follower.readStream(topic, 0, 10, limits);
          expect(read.publications).toEqual([{ offset: 1, data: `h${topic}` }]);
        }
      } finally {
        await follower.stop();
        await publisher.stop();
      }
    });

    it('the same again after one shard restarts (SIGKILL, no failover), on the same instances', async () => {
      const shardChannels = async () => {
        const node = new Redis(cluster.addresses[1]!.port, '127.0.0.1');
        const channels = ((await node.pubsub('SHARDCHANNELS')) as string[]).toSorted();
        node.disconnect();
        return channels;
      };
      const before = await shardChannels();
      expect(before.length).toBeGreaterThan(0);
      await cluster.restartNode(1);
      // The instances' subscriptions to the restarted shard's topics come back by themselves.
      let after: string[] = [];
      await until(
        async () => (after = await shardChannels()).length === before.length,
        30_000,
        'the restarted shard subscribed again',
      );
      expect(after).toEqual(before);
      await expectResumeAcross(
        instances.map((i) => i.base),
        topics('second'),
      );
    }, 120_000);
  },
);
