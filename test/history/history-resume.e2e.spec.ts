import { afterAll, describe, it } from 'vitest';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { startInstance, stopInstances } from './history-instances.js';
import {
  dropAndResume,
  expectExactlyOnceInOrder,
  expectResumeAcross,
  startThreeInstances,
  WORKLOAD,
} from './history-workload.js';

const TOPICS = Array.from({ length: 50 }, (_, i) => `topic:${i}`);

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
    const run = await dropAndResume({ ...WORKLOAD, topics: TOPICS, bases: [instance.base] });
    expectExactlyOnceInOrder(run.observer, run.clients, run.publishers);
    for (const publisher of run.publishers) publisher.close();
    await stopInstances(instances.splice(0));
  }, 60_000);

  it.skipIf(skipWithoutRedisServer)(
    `over Redis with three instances: the same, clients resuming on any instance${skipWithoutRedisServer ? redisMissing : ''}`,
    async () => {
      redis = await RedisProcess.start();
      instances.push(...(await startThreeInstances({ REDIS_URL: redis.url })));
      await expectResumeAcross(
        instances.map((i) => i.base),
        TOPICS,
      );
    },
    60_000,
  );
});
