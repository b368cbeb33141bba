import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { until } from '../support/app.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { historyQuery } from './history-client.js';
import { startInstance, stopInstances } from './history-instances.js';
import { Publisher } from './history-workload.js';

const INSTANCES = 4;
const TOPICS_PER_INSTANCE = 1000;
const BROADCASTS_PER_INSTANCE = 5;
/** The default `channel` of `RedisBroker`; topic channels are `<channel>:{<topic>}`. */
const TOPIC_CHANNELS = 'nestjs-ws-routes:{*}';

/** The topics followed on instance `i` only. */
const topicsOf = (history: string, i: number) =>
  Array.from({ length: TOPICS_PER_INSTANCE }, (_, j) => `${history}.${i}.${j}`);

/** A client of `/h` following many topics; counts publications and broadcasts it gets. */
class Follower {
  publications = 0;
  broadcasts = 0;
  private constructor(readonly socket: WebSocket) {}

  static open(base: string, topics: string[]): Promise<Follower> {
    const socket = new WebSocket(`${base}/h${historyQuery(topics)}`);
    const follower = new Follower(socket);
    let subscribed = 0;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.on('message', (bytes: Buffer) => {
        const text = bytes.toString();
        if (text.startsWith('b:')) follower.broadcasts++;
        else if (text.startsWith('p:') || JSON.parse(text).type === 'pub') follower.publications++;
        else if (++subscribed === topics.length) resolve(follower);
      });
    });
  }
}

function brokerStats(base: string): Promise<{ received: number; published: number }> {
  const socket = new WebSocket(`${base}/stats`);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('message', (bytes: Buffer) => {
      resolve(JSON.parse(bytes.toString()).broker);
      socket.close();
    });
  });
}

describe.skipIf(skipWithoutRedisServer)(
  `RedisBroker interest routing: four instances, 1,000 topics each followed on one instance only${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    let redis: RedisProcess | undefined;
    let admin: Redis | undefined;
    const instances: Awaited<ReturnType<typeof startInstance>>[] = [];

    afterAll(async () => {
      await stopInstances(instances.splice(0));
      admin?.disconnect();
      await redis?.kill();
    });

    for (const history of ['off', 'on'] as const) {
      it(`history ${history}: each instance receives exactly its topics' publications from the others, plus their broadcasts`, async () => {
        redis ??= await RedisProcess.start();
        admin ??= new Redis(redis.url);
        const platforms = ['express', 'fastify', 'express', 'fastify'];
        instances.push(
          ...(await Promise.all(
            platforms.map((PLATFORM) =>
              startInstance({ PLATFORM, REDIS_URL: redis!.url, HISTORY: history }),
            ),
          )),
        );
        const bases = instances.map((instance) => instance.base);
        const followers = await Promise.all(
          bases.map((base, i) => Follower.open(base, topicsOf(history, i))),
        );
        // Every topic's channel has exactly one subscriber: the instance that follows it.
        await until(
          async () =>
            (await admin!.pubsub('CHANNELS', TOPIC_CHANNELS)).length ===
            INSTANCES * TOPICS_PER_INSTANCE,
          30_000,
          'every topic channel subscribed',
        );
        const channels = (await admin.pubsub('CHANNELS', TOPIC_CHANNELS)) as string[];
        const counts = (await admin.pubsub('NUMSUB', ...channels)) as (string | number)[];
        expect(counts.filter((_, k) => k % 2 === 1).every((n) => Number(n) === 1)).toBe(true);

        // Every instance publishes to all 4,000 topics and broadcasts 5 times.
        const publishers = await Promise.all(bases.map((base) => Publisher.open(base)));
        const all = Array.from({ length: INSTANCES }, (_, i) => topicsOf(history, i)).flat();
        for (const [i, publisher] of publishers.entries()) {
          for (const topic of all) publisher.publish(topic, `p:${topic}:${i}`);
          for (let n = 0; n < BROADCASTS_PER_INSTANCE; n++) publisher.broadcast(`b:${i}:${n}`);
        }
        await until(
          () =>
            followers.every(
              (f) =>
                f.publications === INSTANCES * TOPICS_PER_INSTANCE &&
                f.broadcasts === INSTANCES * BROADCASTS_PER_INSTANCE,
            ),
          60_000,
          'every publication and broadcast at its followers',
        );
        const others = INSTANCES - 1;
        for (const base of bases) {
          expect((await brokerStats(base)).received).toBe(
            others * TOPICS_PER_INSTANCE + others * BROADCASTS_PER_INSTANCE,
          );
        }

        // The last socket of a topic leaves: the instance unsubscribes from its channel.
        for (const follower of followers) follower.socket.close();
        await until(
          async () => (await admin!.pubsub('CHANNELS', TOPIC_CHANNELS)).length === 0,
          10_000,
          'every topic channel unsubscribed',
        );
        for (const publisher of publishers) publisher.close();
        await stopInstances(instances.splice(0));
      }, 150_000);
    }
  },
);
