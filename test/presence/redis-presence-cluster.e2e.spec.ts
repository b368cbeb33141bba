import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presenceUnavailableMessage } from '../../src/presence/presence.messages.js';
import type { WebSocketTestClient } from '../../src/testing/index.js';
import type { RunningProcess } from '../support/process.js';
import { redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { RedisCluster } from '../support/redis-cluster.js';
import {
  converged,
  joinedNames,
  leftNames,
  members,
  online,
  startPresenceInstances,
  stopPresenceInstances,
} from './presence-instances.js';

const skip = skipWithoutRedisServer;
/**
 * The instances' `heartbeatMs`: short, so that the bounds are measured in seconds, as in the
 * standalone test (a shorter period leaves the SIGKILL bound a margin of a few scheduler delays).
 */
const HEARTBEAT_MS = 1000;

/**
 * The presence example app, three instance processes on a real 3-master Redis Cluster, with
 * topics whose keys live on different shards: the standalone presence tests
 * (redis-presence.e2e.spec.ts) on a cluster, plus a shard that restarts.
 */
describe.skipIf(skip)(
  `RedisPresence, three instance processes on a 3-master Redis Cluster${skip ? redisMissing : ''}`,
  () => {
    let cluster: RedisCluster;
    let instances: (RunningProcess & { port: number })[] = [];
    let ports: number[] = [];
    /** Topic i lives on node i. */
    let topics: string[] = [];
    /** Per topic: the names every instance should list. */
    const expected = new Map<string, string[]>();
    /** Per topic: a client on instance 0 that hears its joins and leaves. */
    const watchers = new Map<string, WebSocketTestClient>();
    const clients: WebSocketTestClient[] = [];
    const join = async (instance: number, name: string, topic: string) => {
      const client = await online(ports[instance]!, name, topic);
      clients.push(client);
      expected.get(topic)!.push(name);
      return client;
    };
    const allConverged = (upTo: number[] = ports, timeoutMs?: number) =>
      Promise.all(topics.map((topic) => converged(upTo, expected.get(topic)!, timeoutMs, topic)));

    beforeAll(async () => {
      cluster = await RedisCluster.start(3);
      topics = await Promise.all([0, 1, 2].map((node) => cluster.topicOn(node, 'room')));
      const nodes = cluster.addresses.map(({ host, port }) => `${host}:${port}`).join(',');
      const env = { REDIS_CLUSTER: nodes, PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS) };
      instances = await startPresenceInstances(3, env);
      ports = instances.map((instance) => instance.port);
    });

    afterAll(async () => {
      for (const client of clients) client.terminate();
      await stopPresenceInstances(instances);
      await cluster?.stop();
    });

    it('every instance lists the true set of each topic, the topics on three shards', async () => {
      for (const topic of topics) {
        expected.set(topic, []);
        watchers.set(topic, await join(0, `watch-${topic}`, topic));
      }
      const byName = new Map<string, WebSocketTestClient>();
      for (const topic of topics) {
        for (let instance = 0; instance < 3; instance++) {
          const name = `${topic}-on${instance}`;
          byName.set(name, await join(instance, name, topic));
        }
      }
      await allConverged();
      // The keys of topic i are on node i: three topics, three shards.
      for (const [node, topic] of topics.entries()) {
        const slot = await cluster.nodes[node]!.cli('cluster', 'keyslot', topic);
        const keys = await cluster.nodes[node]!.cli('cluster', 'countkeysinslot', slot.trim());
        expect(Number(keys)).toBe(2); // the sorted set and the hash
      }
      // A close on instance 1 (topic 0), a leave with the connection open on instance 2 (topic 1),
      // a close on instance 0 (topic 2).
      const gone = [`${topics[0]}-on1`, `${topics[1]}-on2`, `${topics[2]}-on0`];
      await byName.get(gone[0]!)!.close();
      byName.get(gone[1]!)!.send('leave');
      await byName.get(gone[2]!)!.close();
      for (const [i, topic] of topics.entries()) {
        expected.set(
          topic,
          expected.get(topic)!.filter((name) => name !== gone[i]),
        );
      }
      await allConverged();
      expect(byName.get(gone[1]!)!.isOpen).toBe(true);
      // Each watcher heard every join of its topic once, and the one leave.
      for (const [i, topic] of topics.entries()) {
        const watcher = watchers.get(topic)!;
        expect(joinedNames(watcher).toSorted()).toEqual(
          [`watch-${topic}`, ...[0, 1, 2].map((instance) => `${topic}-on${instance}`)].toSorted(),
        );
        await expect.poll(() => leftNames(watcher)).toEqual([gone[i]]);
      }
    });

    it("a shard restart (no failover): its topic's list answers the clear error meanwhile, its members are back within one period", async () => {
      const [onShard, elsewhere] = [topics[1]!, topics[0]!];
      const url = `cluster ${cluster.addresses.map(({ host, port }) => `${host}:${port}`).join(',')}`;
      await cluster.nodes[1]!.kill();
      await expect
        .poll(() => members(ports[2]!, onShard), { timeout: 10_000 })
        .toEqual({ status: 503, message: presenceUnavailableMessage(url) });
      // The other shards' topics are served meanwhile.
      expect(await members(ports[2]!, elsewhere)).toEqual({
        status: 200,
        names: expected.get(elsewhere)!.toSorted(),
      });

      await cluster.nodes[1]!.restart(); // empty: no persistence
      await cluster.waitUntilOk(); // serving its slots again
      const backAt = Date.now();
      await allConverged(ports, 5 * HEARTBEAT_MS);
      expect(Date.now() - backAt).toBeLessThanOrEqual(HEARTBEAT_MS);
      // Every instance went through it without an exception.
      expect(instances.map((instance) => instance.child.exitCode)).toEqual([null, null, null]);
    });

    it('drops the members of an instance killed with SIGKILL from every topic within 2 heartbeat periods', async () => {
      const leftBefore = new Map(topics.map((topic) => [topic, leftNames(watchers.get(topic)!)]));
      const doomed = new Map(topics.map((topic) => [topic, [] as string[]]));
      for (const topic of topics) {
        await join(2, `doomed-${topic}`, topic);
        doomed.set(
          topic,
          expected.get(topic)!.filter((name) => /-on2$|^doomed-/.test(name)),
        );
      }
      await allConverged();
      for (const topic of topics) {
        expected.set(
          topic,
          expected.get(topic)!.filter((name) => !doomed.get(topic)!.includes(name)),
        );
      }

      instances[2]!.child.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await instances[2]!.exited).toBe('SIGKILL');
      await allConverged(ports.slice(0, 2));
      expect(Date.now() - killedAt).toBeLessThanOrEqual(2 * HEARTBEAT_MS);
      // ...and announced as leaves to each topic's watcher, once, within the bound too.
      for (const topic of topics) {
        await expect
          .poll(
            () => leftNames(watchers.get(topic)!).slice(leftBefore.get(topic)!.length).toSorted(),
            { timeout: 10_000, interval: 20 },
          )
          .toEqual(doomed.get(topic)!.toSorted());
      }
      expect(Date.now() - killedAt).toBeLessThanOrEqual(2 * HEARTBEAT_MS);
    });
  },
);
