import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { PUBLISH_SCRIPT, streamKeys } from '../../src/broker/redis-streams.lua.js';
import { encodeBrokerMessage, RedisBroker } from '../../src/index.js';
import { until } from '../support/app.js';
import { redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { ResumingClient } from './history-client.js';
import { startInstance, stopInstances } from './history-instances.js';
import { Publisher } from './history-workload.js';

/**
 * A Redis Cluster shard restarts without failover (its data kept): a publication that reached the
 * shard's stream while the instance was not subscribed to it any more (Pub/Sub is at most once)
 * is read back once the shard is back, also on a quiet topic that gets no later publication to
 * reveal the gap. Simulated exactly: after the restart the stream gets one publication whose live
 * message goes to a channel nobody subscribes to.
 */
describe.skipIf(skipWithoutRedisServer)(
  `RedisBroker on a Redis Cluster whose shard restarts${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    let cluster: RedisCluster | undefined;
    const instances: Awaited<ReturnType<typeof startInstance>>[] = [];

    afterAll(async () => {
      await stopInstances(instances.splice(0));
      await cluster?.stop();
    });

    it('a quiet topic gets what its stream received while the shard was away, with no later publication, then the live ones again', async () => {
      cluster = await RedisCluster.start(3, { persist: true });
      const nodes = cluster.addresses.map(({ host, port }) => `${host}:${port}`).join(',');
      instances.push(await startInstance({ REDIS_CLUSTER: nodes }));
      const topic = await cluster.topicOn(1);
      const client = new ResumingClient([topic]);
      await client.connect(instances[0]!.base);
      const publisher = await Publisher.open(instances[0]!.base);
      publisher.publish(topic, 'before');
      await until(() => client.received.get(topic)!.length === 1, 5000, 'the first publication');

      await cluster.restartNode(1);
      const shard = new Redis(cluster.nodes[1]!.port, '127.0.0.1');
      const encoded = encodeBrokerMessage(
        { kind: 'publish', topic, data: 'missed' },
        randomBytes(16),
      );
      const [stream, meta] = streamKeys('nestjs-ws-routes', topic);
      await shard.eval(
        PUBLISH_SCRIPT,
        2,
        stream,
        meta,
        encoded,
        1000,
        600_000,
        `nobody:{${topic}}`,
        'unused',
        'spublish',
        600_000,
      );
      shard.disconnect();

      await until(() => client.received.get(topic)!.length === 2, 15_000, 'the missed publication');
      // The instance is subscribed on the restarted shard again: a later publication arrives live.
      publisher.publish(topic, 'after');
      await until(() => client.received.get(topic)!.length === 3, 5000, 'the later publication');
      expect(client.received.get(topic)!.map(({ offset, data }) => [offset, data])).toEqual([
        [1, 'before'],
        [2, 'missed'],
        [3, 'after'],
      ]);
      expect(client.lost).toEqual([]);
      client.drop();
      publisher.close();
    }, 60_000);

    it('stats().connected is false while a shard is down, true again once nothing failed for 3 s', async () => {
      const own = await RedisCluster.start(3);
      const broker = new RedisBroker({ cluster: own.addresses, connectTimeoutMs: 5000 });
      try {
        await broker.start(() => {});
        expect(broker.stats().connected).toBe(true);
        const topic = await own.topicOn(1);
        await own.nodes[1]!.kill();
        // The client stays `ready`; publications to the shard's topics fail.
        await until(
          () => {
            broker.publish({ kind: 'publish', topic, data: 'while down' });
            return !broker.stats().connected;
          },
          10_000,
          'connected false while the shard is down',
        );
        await own.nodes[1]!.restart();
        await own.waitUntilOk();
        await until(() => broker.stats().connected, 15_000, 'connected again');
      } finally {
        await broker.stop();
        await own.stop();
      }
    }, 60_000);
  },
);
