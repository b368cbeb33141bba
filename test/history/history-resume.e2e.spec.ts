import { afterAll, describe, it } from 'vitest';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { startInstance, stopInstances } from './history-instances.js';
import { dropAndResume, expectExactlyOnceInOrder } from './history-workload.js';

const TOPICS = Array.from({ length: 50 }, (_, i) => `topic:${i}`);
const WORKLOAD = { topics: TOPICS, clients: 12, topicsPerClient: 5, durationMs: 6000 };

describe('clients dropping for 1 to 5 s while publishers publish to 50 topics', () => {
  const instances: Awaited<ReturnType<typeof startInstance>>[] = [];
  let redis: RedisProcess | undefined;

  afterAll(async () => {
    await stopInstances(instances.splice(0));
    await redis?.kill();
  });

  it('in one process: every client gets each publication of its topics exactly once, in offset order', async () => {
    const instance = await startInstance({ PLATFORM: 'fastify' });
    instances.push(instance);
    const run = await dropAndResume({ ...WORKLOAD, bases: [instance.base] });
    expectExactlyOnceInOrder(run.observer, run.clients, run.publishers);
    for (const publisher of run.publishers) publisher.close();
    await stopInstances(instances.splice(0));
  }, 60_000);

  it.skipIf(skipWithoutRedisServer)(
    `over Redis with three instances: the same, clients resuming on any instance${skipWithoutRedisServer ? redisMissing : ''}`,
    async () => {
      redis = await RedisProcess.start();
      const platforms = ['express', 'fastify', 'express'];
      instances.push(
        ...(await Promise.all(
          platforms.map((PLATFORM) => startInstance({ PLATFORM, REDIS_URL: redis!.url })),
        )),
      );
      const run = await dropAndResume({ ...WORKLOAD, bases: instances.map((i) => i.base) });
      expectExactlyOnceInOrder(run.observer, run.clients, run.publishers);
      for (const publisher of run.publishers) publisher.close();
    },
    60_000,
  );
});
