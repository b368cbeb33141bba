import { Logger } from '@nestjs/common';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisPresence, type PresenceEvent, type RedisPresenceOptions } from '../../src/index.js';
import {
  presenceLostMessage,
  presenceRestoredMessage,
  presenceUnavailableMessage,
} from '../../src/presence/presence.messages.js';
import {
  clusterNodesExpected,
  invalidRedisOptionMessage,
  redisUrlAndClusterMessage,
} from '../../src/redis/redis.messages.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { RedisCluster } from '../support/redis-cluster.js';

const skip = skipWithoutRedisServer;
const HEARTBEAT_MS = 400;
const member = (id: string) => ({ clientId: id, info: { name: id } });

const construct = (options: Record<string, unknown>) =>
  new RedisPresence(options as RedisPresenceOptions);

describe('RedisPresence({ cluster }) options', () => {
  it('refuses a cluster that lists no node as { host, port }, with a TypeError', () => {
    for (const cluster of [
      [],
      ['127.0.0.1:7000'],
      [{ host: '127.0.0.1' }],
      [{ host: 'h', port: 0 }],
      {},
    ]) {
      const construction = () => construct({ cluster });
      expect(construction).toThrow(TypeError);
      expect(construction).toThrow(
        invalidRedisOptionMessage('RedisPresence', 'cluster', cluster, clusterNodesExpected),
      );
    }
  });

  it('refuses url and cluster together (which one was meant?), and takes either alone', () => {
    const cluster = [{ host: '127.0.0.1', port: 7000 }];
    expect(() => construct({ url: 'redis://127.0.0.1:6379', cluster })).toThrow(
      redisUrlAndClusterMessage('RedisPresence'),
    );
    expect(construct({ cluster })).toBeInstanceOf(RedisPresence);
    expect(construct({ url: 'redis://127.0.0.1:6379' })).toBeInstanceOf(RedisPresence);
  });
});

describe.skipIf(skip)(
  `RedisPresence on a 3-master Redis Cluster${skip ? redisMissing : ''}`,
  () => {
    let cluster: RedisCluster;
    /** Three topics, the slot of topic i owned by node i. */
    let topics: string[];
    let url: string;
    const logger = new CaptureLogger();
    const stores: RedisPresence[] = [];
    const start = async (events: PresenceEvent[] = []) => {
      const store = new RedisPresence({
        cluster: cluster.addresses,
        prefix: 'cluster-store',
        heartbeatMs: HEARTBEAT_MS,
      });
      stores.push(store);
      await store.start((event) => events.push(event));
      return store;
    };
    const logged = (message: string) => logger.entries.some((entry) => entry.message === message);

    beforeAll(async () => {
      cluster = await RedisCluster.start(3);
      topics = await Promise.all([0, 1, 2].map((node) => cluster.topicOn(node, 'room')));
      url = `cluster ${cluster.addresses.map(({ host, port }) => `${host}:${port}`).join(',')}`;
      Logger.overrideLogger(logger);
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((store) => store.stop()));
      logger.clear();
    });
    afterAll(async () => {
      Logger.overrideLogger(false);
      await cluster?.stop();
    });

    it("keeps each topic's keys on its own shard and announces every change to every instance", async () => {
      const seenB: PresenceEvent[] = [];
      const a = await start();
      const b = await start(seenB);
      for (const topic of topics) await a.join(topic, member(`in-${topic}`));
      await a.leave(topics[2]!, `in-${topics[2]}`);
      // Plain PUBLISH from the scripts of all three shards reaches the other instance: in order for
      // one topic (one shard's scripts), in no set order across shards (each shard's PUBLISH
      // travels the cluster bus on its own).
      const byTopic = () => topics.map((topic) => seenB.filter((event) => event.topic === topic));
      const joined = (topic: string) => ({ topic, joins: [member(`in-${topic}`)], leaves: [] });
      const left = (topic: string) => ({ topic, joins: [], leaves: [member(`in-${topic}`)] });
      const [t0, t1, t2] = topics as [string, string, string];
      await expect.poll(byTopic).toEqual([[joined(t0)], [joined(t1)], [joined(t2), left(t2)]]);
      expect(seenB).toHaveLength(4);
      for (const [node, topic] of topics.entries()) {
        expect(await b.list(topic)).toEqual(node === 2 ? [] : [member(`in-${topic}`)]);
        // The topic's sorted set is on the node that owns its slot (elsewhere: MOVED).
        if (node === 2) continue;
        const shard = new Redis(cluster.addresses[node]!.port, '127.0.0.1');
        expect(
          await shard.zscore(`cluster-store:{${topic}}:presence`, `in-${topic}`),
        ).not.toBeNull();
        shard.disconnect();
      }
      expect(b.stats()).toEqual({ name: 'redis', connected: true, members: 0 });
      expect(a.stats()).toEqual({ name: 'redis', connected: true, members: 2 });
    });

    it('serves topics whose hash tag would be empty ("", "}x") or odd, as any other, with their events', async () => {
      const seenB: PresenceEvent[] = [];
      const a = await start();
      const b = await start(seenB);
      const odd = ['', '}', '}x', '{', '{}', 'a{b}c', 'a}b'];
      for (const topic of odd) await a.join(topic, member(`in-${topic}`));
      // Each once; topics on different shards may arrive in any order (each crosses the bus).
      await expect.poll(() => seenB.map((event) => event.topic).toSorted()).toEqual(odd.toSorted());
      for (const topic of odd) {
        expect(await b.list(topic)).toEqual([member(`in-${topic}`)]);
        expect(await b.count(topic)).toBe(1);
      }
      await a.leave('}x', 'in-}x');
      expect(await b.list('}x')).toEqual([]);
      await expect
        .poll(() => seenB.at(-1))
        .toEqual({ topic: '}x', joins: [], leaves: [member('in-}x')] });
    });

    it('every node away: reconnects at its retry pace (no tight loop), and hears events again once they are back', async () => {
      const seenB: PresenceEvent[] = [];
      const a = await start();
      const b = await start(seenB);
      await Promise.all(cluster.nodes.map((node) => node.kill()));
      // Stand-ins on the nodes' ports that count the connections the two stores open to them.
      let attempts = 0;
      const standIns = cluster.addresses.map(({ port }) =>
        createServer((socket) => {
          attempts++;
          socket.destroy();
        }).listen(port, '127.0.0.1'),
      );
      await new Promise((resolve) => setTimeout(resolve, 500)); // past the first reconnections
      attempts = 0;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const perSecond = attempts;
      await Promise.all(standIns.map((server) => new Promise((resolve) => server.close(resolve))));
      // Two stores, two clients each, three nodes, a retry every 100 ms at most: 120 a second.
      expect(perSecond).toBeLessThanOrEqual(120);

      await Promise.all(cluster.nodes.map((node) => node.restart()));
      await cluster.waitUntilOk();
      await expect.poll(() => b.stats().connected, { timeout: 10_000 }).toBe(true);
      await a.join(topics[0]!, member('after'));
      await expect
        .poll(() => seenB.at(-1), { timeout: 5000 })
        .toEqual({ topic: topics[0], joins: [member('after')], leaves: [] });
    });

    it('a shard restart (no failover): its topics reject list and count, the others serve; members back within one period', async () => {
      const a = await start();
      const b = await start();
      for (const topic of topics) await a.join(topic, member(`in-${topic}`));
      const away = cluster.nodes[1]!;
      await away.kill();
      await expect.poll(() => [a.stats().connected, b.stats().connected]).toEqual([false, false]);
      const failing = Date.now();
      await expect(b.list(topics[1]!)).rejects.toThrow(presenceUnavailableMessage(url));
      await expect(b.count(topics[1]!)).rejects.toThrow(presenceUnavailableMessage(url));
      expect(Date.now() - failing).toBeLessThan(10_000); // bounded by the cluster client's retries
      expect(await b.list(topics[0]!)).toEqual([member(`in-${topics[0]}`)]);
      expect(await b.count(topics[2]!)).toBe(1);
      expect(logged(presenceLostMessage(url, 'a shard does not serve its slots'))).toBe(true);

      await away.restart(); // empty: no persistence
      await cluster.waitUntilOk(); // serving its slots again
      const backAt = Date.now();
      await expect
        .poll(() => b.list(topics[1]!).catch(() => []), { interval: 20, timeout: 5000 })
        .toEqual([member(`in-${topics[1]}`)]);
      expect(Date.now() - backAt).toBeLessThanOrEqual(HEARTBEAT_MS);
      await expect.poll(() => [a.stats().connected, b.stats().connected]).toEqual([true, true]);
      await expect.poll(() => logged(presenceRestoredMessage(url, 3))).toBe(true);
    });
  },
);
