import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/app.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { ResumingClient } from './history-client.js';
import { startInstance, stopInstances } from './history-instances.js';
import { Publisher } from './history-workload.js';

const skip = skipWithoutRedisServer;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skip)(`history over Redis, under faults${skip ? redisMissing : ''}`, () => {
  const instances: Awaited<ReturnType<typeof startInstance>>[] = [];
  const publishers: Publisher[] = [];
  const clients: ResumingClient[] = [];
  let redis: RedisProcess | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    for (const client of clients.splice(0)) client.drop();
    for (const publisher of publishers.splice(0)) publisher.close();
    await stopInstances(instances.splice(0));
    await redis?.kill();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    redis = dir = undefined;
  });

  /** Redis (persistent or not) and two instances, Express and Fastify, with a publisher on each. */
  async function setUp(persistent: boolean) {
    dir = persistent ? mkdtempSync(join(tmpdir(), 'history-redis-')) : undefined;
    redis = await RedisProcess.start(dir);
    const env = (PLATFORM: string) => ({ PLATFORM, REDIS_URL: redis!.url });
    instances.push(
      ...(await Promise.all(['express', 'fastify'].map((p) => startInstance(env(p))))),
    );
    publishers.push(...(await Promise.all(instances.map(({ base }) => Publisher.open(base)))));
    return instances.map(({ base }) => base);
  }

  async function client(base: string, topics = ['news']) {
    const created = new ResumingClient(topics);
    clients.push(created);
    await created.connect(base);
    return created;
  }

  const data = (client: ResumingClient, topic = 'news') =>
    client.received.get(topic)!.map((publication) => publication.data);

  async function restartRedis() {
    await redis!.kill();
    await redis!.restart();
  }

  it('Redis restarted with persistence: history kept, the resume is complete', async () => {
    const [a, b] = await setUp(true);
    const stays = await client(b);
    const drops = await client(a);
    for (const n of [1, 2]) publishers[0].publish('news', `m${n}`);
    await until(() => data(drops).length === 2);
    drops.drop();
    await restartRedis();
    for (const n of [3, 4, 5]) publishers[1].publish('news', `m${n}`);
    await until(() => data(stays).length === 5, 10_000, 'the staying client got all five');
    const [result] = await drops.connect(b);
    expect(result).toMatchObject({ recovered: true, replayed: 3, position: { offset: 5 } });
    expect(data(drops)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(data(stays)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(stays.lost).toEqual([]);
  });

  it('Redis restarted without persistence: a new epoch, recovered false with the reason, never a wrong replay', async () => {
    const [a, b] = await setUp(false);
    const stays = await client(b);
    const drops = await client(a);
    const oldEpoch = drops.positions.get('news')!.epoch;
    for (const n of [1, 2]) publishers[0].publish('news', `m${n}`);
    await until(() => data(drops).length === 2 && data(stays).length === 2);
    drops.drop();
    await restartRedis();
    await until(
      () => stays.lost.length === 1,
      10_000,
      'the staying client told continuity was lost',
    );
    expect(stays.lost[0]).toMatchObject({ type: 'lost', topic: 'news', reason: 'epoch' });
    publishers[1].publish('news', 'after');
    await until(() => data(stays).length === 3);
    const [result] = await drops.connect(a);
    expect(result).toMatchObject({
      recovered: false,
      reason: 'epoch',
      replayed: 0,
      position: { offset: 1 },
    });
    expect(drops.positions.get('news')!.epoch).not.toBe(oldEpoch);
    expect(data(drops)).toEqual(['m1', 'm2']);
    expect(stays.received.get('news')!.at(-1)).toMatchObject({ offset: 1, data: 'after' });
  });

  it('Redis paused for 3 s (SIGSTOP, SIGCONT): everything published meanwhile arrives once, in order', async () => {
    const [a, b] = await setUp(false);
    const onA = await client(a);
    const onB = await client(b);
    publishers[0].publish('news', 'before');
    await until(() => data(onA).length === 1 && data(onB).length === 1);
    redis!.signal('SIGSTOP');
    for (let n = 0; n < 20; n++) {
      publishers[n % 2].publish('news', `paused ${n}`);
      await sleep(150);
    }
    redis!.signal('SIGCONT');
    await until(() => data(onA).length === 21 && data(onB).length === 21, 10_000);
    for (const got of [onA, onB]) {
      expect(got.received.get('news')!.map((p) => p.offset)).toEqual(
        Array.from({ length: 21 }, (_, i) => i + 1),
      );
      expect(got.lost).toEqual([]);
    }
    expect(data(onA)).toEqual(data(onB));
    expect(data(onA).toSorted()).toEqual(
      ['before', ...Array.from({ length: 20 }, (_, n) => `paused ${n}`)].toSorted(),
    );
  });

  it('an instance cut from Redis Pub/Sub heals the gap from history, in order, before new publications', async () => {
    const [a, b] = await setUp(false);
    const onA = await client(a);
    const onB = await client(b);
    publishers[1].publish('news', 'm0');
    await until(() => data(onA).length === 1);
    // Cut every Pub/Sub connection (the instances reconnect on their own) while B keeps publishing.
    const cutting = (async () => {
      for (let n = 0; n < 5; n++) {
        await redis!.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
        await sleep(100);
      }
    })();
    for (let n = 1; n <= 40; n++) {
      publishers[1].publish('news', `m${n}`);
      await sleep(15);
    }
    await cutting;
    await until(() => data(onA).length === 41 && data(onB).length === 41, 10_000);
    const expected = Array.from({ length: 41 }, (_, n) => `m${n}`);
    expect(data(onA)).toEqual(expected);
    expect(data(onB)).toEqual(expected);
    expect(onA.lost).toEqual([]);
  });

  it('an instance killed with SIGKILL: its clients resume on another instance', async () => {
    const [a, b] = await setUp(false);
    const victims = [await client(a, ['news', 'sport']), await client(a, ['news'])];
    publishers[1].publish('news', 'n1');
    publishers[1].publish('sport', 's1');
    await until(() => victims.every((v) => data(v).length === 1));
    instances[0].process.child.kill('SIGKILL');
    await instances[0].process.exited;
    for (const n of [2, 3, 4]) publishers[1].publish('news', `n${n}`);
    publishers[1].publish('sport', 's2');
    for (const victim of victims) {
      const results = await victim.connect(b);
      expect(results.every((r) => r.type === 'recovery' && r.recovered)).toBe(true);
      expect(data(victim)).toEqual(['n1', 'n2', 'n3', 'n4']);
    }
    expect(data(victims[0], 'sport')).toEqual(['s1', 's2']);
    instances.shift();
    publishers.shift()?.close();
  });
});
