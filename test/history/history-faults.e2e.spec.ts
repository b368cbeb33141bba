import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/app.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { ResumingClient } from './history-client.js';
import { startInstance, stopInstances } from './history-instances.js';
import { Publisher } from './history-workload.js';

const skip = skipWithoutRedisServer;

/** The data a client received on `topic` (default its first), in order. */
const data = (client: ResumingClient, topic = client.topics[0]) =>
  client.received.get(topic)!.map((publication) => publication.data);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skip)(`history over Redis, under faults${skip ? redisMissing : ''}`, () => {
  // One Redis (persistent: restarting it keeps the data, deleting its files first loses it) and two
  // instances, Express and Fastify, with a publisher on each, shared by the tests; each test has
  // topics of its own, and the one that kills an instance runs last.
  const instances: Awaited<ReturnType<typeof startInstance>>[] = [];
  const publishers: Publisher[] = [];
  const clients: ResumingClient[] = [];
  let redis: RedisProcess;
  let dir: string;
  let bases: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'history-redis-'));
    redis = await RedisProcess.start({ persistDir: dir });
    // A short history read timeout: the frozen-Redis test waits for it.
    const env = (PLATFORM: string) => ({ PLATFORM, REDIS_URL: redis.url, READ_TIMEOUT_MS: '3000' });
    instances.push(
      ...(await Promise.all(['express', 'fastify'].map((p) => startInstance(env(p))))),
    );
    publishers.push(...(await Promise.all(instances.map(({ base }) => Publisher.open(base)))));
    bases = instances.map(({ base }) => base);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.drop();
  });

  afterAll(async () => {
    for (const publisher of publishers.splice(0)) publisher.close();
    await stopInstances(instances.splice(0));
    await redis?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function joinAs(base: string, topics: string[]) {
    const created = new ResumingClient(topics);
    clients.push(created);
    await created.connect(base);
    return created;
  }

  /** Restarts Redis; without `keepData` its files are deleted first (a restart without persistence). */
  async function restartRedis(keepData: boolean) {
    await redis.kill();
    if (!keepData) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
    }
    await redis.restart();
    await untilHistoryBack();
  }

  /**
   * Waits until every instance reads history again after a restart of Redis: each reconnects on
   * its own schedule, and until it has, a subscribe answers `'unavailable'` with no position.
   */
  async function untilHistoryBack() {
    for (const base of bases) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const probe = new ResumingClient(['probe']);
        const [result] = await probe.connect(base).finally(() => probe.drop());
        if (result.type === 'recovery' && result.position !== undefined) break;
        if (Date.now() > deadline)
          throw new Error(`${base} reads no history 10 s after the restart`);
        await sleep(100);
      }
    }
  }

  it('Redis restarted with persistence: history kept, the resume is complete', async () => {
    const [a, b] = bases;
    const stays = await joinAs(b, ['persisted']);
    const drops = await joinAs(a, ['persisted']);
    for (const n of [1, 2]) publishers[0].publish('persisted', `m${n}`);
    await until(() => data(drops).length === 2);
    drops.drop();
    await restartRedis(true);
    for (const n of [3, 4, 5]) publishers[1].publish('persisted', `m${n}`);
    await until(() => data(stays).length === 5, 10_000, 'the staying client got all five');
    const [result] = await drops.connect(b);
    expect(result).toMatchObject({ recovered: true, replayed: 3, position: { offset: 5 } });
    expect(data(drops)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(data(stays)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(stays.lost).toEqual([]);
  });

  it('Redis restarted without persistence: a new epoch, recovered false with the reason, never a wrong replay', async () => {
    const [a, b] = bases;
    const stays = await joinAs(b, ['volatile']);
    const drops = await joinAs(a, ['volatile']);
    const oldEpoch = drops.positions.get('volatile')!.epoch;
    for (const n of [1, 2]) publishers[0].publish('volatile', `m${n}`);
    await until(() => data(drops).length === 2 && data(stays).length === 2);
    drops.drop();
    await restartRedis(false);
    await until(
      () => stays.lost.length === 1,
      10_000,
      'the staying client told continuity was lost',
    );
    expect(stays.lost[0]).toMatchObject({ type: 'lost', topic: 'volatile', reason: 'epoch' });
    publishers[1].publish('volatile', 'after');
    await until(() => data(stays).length === 3);
    const [result] = await drops.connect(a);
    expect(result).toMatchObject({
      recovered: false,
      reason: 'epoch',
      replayed: 0,
      position: { offset: 1 },
    });
    expect(drops.positions.get('volatile')!.epoch).not.toBe(oldEpoch);
    expect(data(drops)).toEqual(['m1', 'm2']);
    expect(stays.received.get('volatile')!.at(-1)).toMatchObject({ offset: 1, data: 'after' });
  });

  it('Redis paused for 3 s (SIGSTOP, SIGCONT): everything published meanwhile arrives once, in order', async () => {
    const [a, b] = bases;
    const onA = await joinAs(a, ['paused']);
    const onB = await joinAs(b, ['paused']);
    publishers[0].publish('paused', 'before');
    await until(() => data(onA).length === 1 && data(onB).length === 1);
    redis.signal('SIGSTOP');
    for (let n = 0; n < 20; n++) {
      publishers[n % 2].publish('paused', `paused ${n}`);
      await sleep(150);
    }
    redis.signal('SIGCONT');
    await until(() => data(onA).length === 21 && data(onB).length === 21, 10_000);
    for (const got of [onA, onB]) {
      expect(got.received.get('paused')!.map((p) => p.offset)).toEqual(
        Array.from({ length: 21 }, (_, i) => i + 1),
      );
      expect(got.lost).toEqual([]);
    }
    expect(data(onA)).toEqual(data(onB));
    expect(data(onA).toSorted()).toEqual(
      ['before', ...Array.from({ length: 20 }, (_, n) => `paused ${n}`)].toSorted(),
    );
  });

  it('Redis frozen (SIGSTOP): a resume answers unavailable after readTimeoutMs instead of waiting, then goes on live', async () => {
    for (const base of bases) {
      const topic = `frozen-${bases.indexOf(base)}`;
      const client = await joinAs(base, [topic]);
      publishers[0].publish(topic, 'm1');
      await until(() => data(client, topic).length === 1);
      client.drop();
      redis.signal('SIGSTOP');
      let results;
      try {
        // Without the read timeout this resume would wait for as long as Redis is paused.
        results = await client.connect(base, 9000);
      } finally {
        redis.signal('SIGCONT');
      }
      expect(results).toEqual([
        expect.objectContaining({ topic, recovered: false, reason: 'unavailable', replayed: 0 }),
      ]);
      // Live again once the instance has read the stream after Redis came back: a publication
      // racing that read may be counted as before it (the connection has no position to resume
      // from), so publish until one arrives; what arrives is in order, once each.
      let n = 2;
      let lastPublish = 0;
      await until(
        () => {
          if (data(client, topic).length > 1) return true;
          if (Date.now() - lastPublish >= 200) {
            lastPublish = Date.now();
            publishers[0].publish(topic, `m${n++}`);
          }
          return false;
        },
        10_000,
        'a live publication after Redis came back',
      );
      const offsets = client.received.get(topic)!.map((publication) => publication.offset);
      expect(offsets).toEqual(offsets.toSorted((a, b) => a - b));
      expect(new Set(offsets).size).toBe(offsets.length);
      const next = `m${n++}`;
      publishers[0].publish(topic, next);
      await until(() => data(client, topic).includes(next));
    }
  });

  it('an instance cut from Redis Pub/Sub heals the gap from history, in order, before new publications', async () => {
    const [a, b] = bases;
    const onA = await joinAs(a, ['cut']);
    const onB = await joinAs(b, ['cut']);
    publishers[1].publish('cut', 'm0');
    await until(() => data(onA).length === 1);
    // Cut every Pub/Sub connection (the instances reconnect on their own) while B keeps publishing.
    const cutting = (async () => {
      for (let n = 0; n < 5; n++) {
        await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
        await sleep(100);
      }
    })();
    for (let n = 1; n <= 40; n++) {
      publishers[1].publish('cut', `m${n}`);
      await sleep(15);
    }
    await cutting;
    await until(() => data(onA).length === 41 && data(onB).length === 41, 10_000);
    const expected = Array.from({ length: 41 }, (_, n) => `m${n}`);
    expect(data(onA)).toEqual(expected);
    expect(data(onB)).toEqual(expected);
    expect(onA.lost).toEqual([]);
  });

  it('answers a bad `since` over Redis with a reason, never a replay or a throw', async () => {
    const [a] = bases;
    const first = await joinAs(a, ['checked']);
    const epoch = first.positions.get('checked')!.epoch;
    publishers[0].publish('checked', 'one');
    await until(() => data(first).length === 1);
    const cases: [unknown, string][] = [
      [{ offset: 0, epoch: 'not-the-epoch' }, 'epoch'],
      [{ offset: 99, epoch }, 'invalid'],
      [{ offset: -1, epoch }, 'invalid'],
      [{ offset: 'abc', epoch }, 'invalid'],
    ];
    for (const [since, reason] of cases) {
      const client = new ResumingClient(['checked']);
      clients.push(client);
      client.positions.set('checked', since as never);
      const [result] = await client.connect(a);
      expect(result).toEqual({
        type: 'recovery',
        topic: 'checked',
        recovered: false,
        reason,
        replayed: 0,
        position: { offset: 1, epoch },
      });
      expect(data(client)).toEqual([]);
    }
  });

  it('an instance killed with SIGKILL: its clients resume on another instance', async () => {
    const [a, b] = bases;
    const victims = [await joinAs(a, ['killed', 'killed-2']), await joinAs(a, ['killed'])];
    publishers[1].publish('killed', 'n1');
    publishers[1].publish('killed-2', 's1');
    await until(() => victims.every((v) => data(v).length === 1));
    instances[0].process.child.kill('SIGKILL');
    await instances[0].process.exited;
    for (const n of [2, 3, 4]) publishers[1].publish('killed', `n${n}`);
    publishers[1].publish('killed-2', 's2');
    for (const victim of victims) {
      const results = await victim.connect(b);
      expect(results.every((r) => r.type === 'recovery' && r.recovered)).toBe(true);
      expect(data(victim)).toEqual(['n1', 'n2', 'n3', 'n4']);
    }
    expect(data(victims[0], 'killed-2')).toEqual(['s1', 's2']);
    // Stopped already: afterAll skips it.
    instances.shift();
    publishers.shift()?.close();
  });
});
