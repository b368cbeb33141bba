import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceMember } from '../../src/index.js';
import { connectWebSocket, type WebSocketTestClient } from '../../src/testing/index.js';
import type { RunningProcess } from '../support/process.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import {
  converged,
  joinedNames,
  leftNames,
  listed,
  online as connectOnline,
  startPresenceInstances,
  stopPresenceInstances,
} from './presence-instances.js';

const skip = skipWithoutRedisServer;
/** The instances' `heartbeatMs`: short, so that the bounds are measured in seconds. */
const HEARTBEAT_MS = 1000;

describe.skipIf(skip)(
  `RedisPresence, three instance processes on one Redis${skip ? redisMissing : ''}`,
  () => {
    let redis: RedisProcess;
    const instances: RunningProcess[] = [];
    const ports: number[] = [];
    const clients: WebSocketTestClient[] = [];
    const online = async (instance: number, name: string) => {
      const client = await connectOnline(ports[instance]!, name);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      redis = await RedisProcess.start();
      const env = { REDIS_URL: redis.url, PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS) };
      for (const started of await startPresenceInstances(3, env)) {
        instances.push(started);
        ports.push(started.port);
      }
    });

    afterAll(async () => {
      for (const client of clients) client.terminate();
      await stopPresenceInstances(instances);
      await redis?.kill();
    });

    it('every instance lists the true set as clients join and leave on each', async () => {
      const watcher = await online(0, 'Watcher');
      const names = ['Watcher'];
      const byName = new Map<string, WebSocketTestClient>();
      for (let instance = 0; instance < 3; instance++) {
        for (const name of [`a${instance}`, `b${instance}`]) {
          byName.set(name, await online(instance, name));
          names.push(name);
        }
      }
      await converged(ports, names);
      // A newcomer's own list is the whole set, whichever instance it reached.
      const late = await connectWebSocket(`ws://127.0.0.1:${ports[2]}/online?name=late`);
      clients.push(late);
      const welcome = JSON.parse(String(await late.expectMessage(/"type":"members"/)));
      expect(welcome.members.map((m: PresenceMember) => m.info.name).toSorted()).toEqual(
        [...names, 'late'].toSorted(),
      );
      names.push('late');

      // A close on instance 1, a leave (connection open) on instance 2, a close on instance 0.
      await byName.get('a1')!.close();
      byName.get('b2')!.send('leave');
      await byName.get('b0')!.close();
      const stay = names.filter((name) => !['a1', 'b2', 'b0'].includes(name));
      await converged(ports, stay);
      expect(byName.get('b2')!.isOpen).toBe(true);
      // The watcher on instance 0 heard every join once and each leave once.
      expect(joinedNames(watcher).toSorted()).toEqual(names.toSorted());
      await expect.poll(() => leftNames(watcher).toSorted()).toEqual(['a1', 'b0', 'b2']);
    });

    it('a Redis restart loses no live member for longer than one heartbeat period', async () => {
      const expected = (await listed(ports[0]))!;
      expect(expected.length).toBeGreaterThan(0);
      const raw = new Redis(redis.url);
      await raw.set('restart-marker', '1');
      raw.disconnect();
      await redis.kill();
      await redis.restart(); // empty: --save '' --appendonly no
      const backAt = Date.now();
      const after = new Redis(redis.url);
      expect(await after.exists('restart-marker')).toBe(0); // it really lost everything
      after.disconnect();
      await converged(ports, expected, 5 * HEARTBEAT_MS);
      expect(Date.now() - backAt).toBeLessThanOrEqual(HEARTBEAT_MS);
    });

    it('drops the members of an instance killed with SIGKILL within 2 heartbeat periods', async () => {
      const watcher = clients[0];
      await online(2, 'doomed1');
      await online(2, 'doomed2');
      const before = (await listed(ports[0]))!;
      await converged(ports, before);
      const alive = before.filter(
        (name) => !name.startsWith('doomed') && !['late', 'a2'].includes(name),
      );
      const leftBefore = leftNames(watcher).length;

      instances[2].child.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await instances[2].exited).toBe('SIGKILL');
      await converged(ports.slice(0, 2), alive);
      expect(Date.now() - killedAt).toBeLessThanOrEqual(2 * HEARTBEAT_MS);
      // ...and announced once as leaves to the members that follow the topic, within the bound too.
      await expect
        .poll(() => leftNames(watcher).slice(leftBefore).toSorted(), {
          timeout: 10_000,
          interval: 20,
        })
        .toEqual(['a2', 'doomed1', 'doomed2', 'late']);
      expect(Date.now() - killedAt).toBeLessThanOrEqual(2 * HEARTBEAT_MS);
    });
  },
);
