import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../support/app.js';
import { freePort, RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { ResumingClient } from './history-client.js';
import { startInstance, stopInstances } from './history-instances.js';
import { Publisher } from './history-workload.js';

/**
 * An instance that booted while Redis was not there yet (bootstrap goes on after
 * `connectTimeoutMs`): its sockets subscribe to topics with history meanwhile, answered
 * `reason: 'unavailable'`. Once Redis is there, they get every publication from then on.
 */
describe.skipIf(skipWithoutRedisServer)(
  `history over a Redis that starts after the instance${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    let redis: RedisProcess | undefined;
    const instances: Awaited<ReturnType<typeof startInstance>>[] = [];
    let publisher: Publisher | undefined;
    let client: ResumingClient | undefined;

    afterAll(async () => {
      client?.drop();
      publisher?.close();
      await stopInstances(instances.splice(0));
      await redis?.kill();
    });

    for (const PLATFORM of ['express', 'fastify']) {
      it(`${PLATFORM}: a socket subscribed before Redis came gets every later publication, in order`, async () => {
        redis = new RedisProcess(await freePort());
        const early = await startInstance({ PLATFORM, REDIS_URL: redis.url });
        instances.push(early);
        client = new ResumingClient(['early']);
        const [recovery] = await client.connect(early.base);
        expect(recovery).toMatchObject({ recovered: false, reason: 'unavailable' });

        await redis.restart();
        const late = await startInstance({ PLATFORM, REDIS_URL: redis.url });
        instances.push(late);
        publisher = await Publisher.open(late.base);
        // Published once the early instance is subscribed again (its channel has a subscriber).
        await until(
          async () =>
            Number(
              (await redis!.cli('pubsub', 'numsub', 'nestjs-ws-routes:{early}')).split('\n')[1],
            ) === 1,
          10_000,
          'the early instance subscribed to the topic',
        );
        for (let i = 1; i <= 5; i++) publisher.publish('early', `m${i}`);
        await until(() => client!.received.get('early')!.length === 5, 10_000, 'five publications');
        expect(client.received.get('early')).toEqual(
          [1, 2, 3, 4, 5].map((offset) => expect.objectContaining({ offset, data: `m${offset}` })),
        );

        client.drop();
        publisher.close();
        await stopInstances(instances.splice(0));
        await redis.kill();
      }, 40_000);
    }
  },
);
