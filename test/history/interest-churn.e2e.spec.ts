import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../support/app.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { ResumingClient } from './history-client.js';
import { startInstance, stopInstances } from './history-instances.js';
import { expectExactlyOnceInOrder, Publisher } from './history-workload.js';

const TOPICS = Array.from({ length: 60 }, (_, i) => `churn:${i}`);
const CLIENTS = 20;
const DURATION_MS = 6000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

/**
 * Interest routing under churn: the clients' instances follow a topic only while one of their
 * clients does, so almost every reconnect makes its instance SUBSCRIBE to the topic's channel
 * while another instance publishes to it, and every drop UNSUBSCRIBE it. Nothing the topic's
 * history holds may be missed, duplicated or reordered.
 */
describe.skipIf(skipWithoutRedisServer)(
  `RedisBroker interest routing: subscribes and unsubscribes racing publications${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    let redis: RedisProcess | undefined;
    let cluster: RedisCluster | undefined;
    const instances: Awaited<ReturnType<typeof startInstance>>[] = [];

    afterAll(async () => {
      await stopInstances(instances.splice(0));
      await redis?.kill();
      await cluster?.stop();
    });

    /** The broker's Redis: one server, or a 3-master cluster (SSUBSCRIBE/SUNSUBSCRIBE per shard). */
    async function brokerEnv(topology: string): Promise<Record<string, string>> {
      if (topology === 'standalone') {
        redis = await RedisProcess.start();
        return { REDIS_URL: redis.url };
      }
      cluster = await RedisCluster.start(3);
      return { REDIS_CLUSTER: cluster.addresses.map((a) => `${a.host}:${a.port}`).join(',') };
    }

    it.each(['standalone', 'cluster'])(
      '%s: clients reconnecting every few ms to instances that follow their topics only meanwhile get every publication once, in order',
      async (topology) => {
        const env = await brokerEnv(topology);
        instances.push(
          ...(await Promise.all(
            ['express', 'fastify', 'express'].map((PLATFORM) =>
              startInstance({ PLATFORM, ...env }),
            ),
          )),
        );
        // The observer and the publisher on one instance; the churning clients on the two others.
        const [home, ...churned] = instances.map((instance) => instance.base);
        const observer = new ResumingClient(TOPICS);
        await observer.connect(home!);
        const clients = Array.from(
          { length: CLIENTS },
          (_, i) => new ResumingClient([TOPICS[i * 3]!, TOPICS[i * 3 + 1]!]),
        );
        await Promise.all(clients.map((client, i) => client.connect(churned[i % 2]!)));
        const publisher = await Publisher.open(home!);
        const end = Date.now() + DURATION_MS;
        let counter = 0;
        const publishing = (async () => {
          while (Date.now() < end) {
            for (const topic of TOPICS) publisher.publish(topic, String(counter++));
            await sleep(5);
          }
        })();
        const churning = clients.map(async (client) => {
          while (Date.now() < end - 500) {
            client.drop();
            await sleep(Math.random() * 30);
            await client.connect(pick(churned));
            await sleep(Math.random() * 100);
          }
        });
        await Promise.all([publishing, ...churning]);
        const total = (topic: string) => publisher.sent.get(topic)?.length ?? 0;
        // On a busy machine the last reconnects take a while; what is behind is printed if never.
        await until(
          () =>
            clients.every((c) => c.topics.every((t) => c.positions.get(t)?.offset === total(t))),
          30_000,
          'every client caught up',
        ).catch((error: Error) => {
          for (const c of clients)
            for (const t of c.topics.filter((t) => c.positions.get(t)?.offset !== total(t)))
              console.error(`${t}: at ${c.positions.get(t)?.offset} of ${total(t)}`, c.recoveries);
          throw error;
        });
        await until(
          () => TOPICS.every((topic) => observer.received.get(topic)!.length === total(topic)),
          30_000,
          'every publication at the observer',
        );
        expectExactlyOnceInOrder(observer, clients, [publisher]);
        // Every client came back several times (how often depends on the machine's load).
        expect(clients.every((c) => c.recoveries.length >= 2 * 3)).toBe(true);
        publisher.close();
        await stopInstances(instances.splice(0));
      },
      90_000,
    );
  },
);
