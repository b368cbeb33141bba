import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisPresence, type PresenceEvent } from '../../src/index.js';
import {
  presenceEventMalformedMessage,
  presenceHeartbeatInvalidMessage,
  presenceUnavailableMessage,
} from '../../src/presence/presence.messages.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';

const skip = skipWithoutRedisServer;
const HEARTBEAT_MS = 400;
const member = (id: string) => ({ clientId: id, info: { name: id } });

describe('RedisPresence options', () => {
  it('refuses a heartbeat under 10 ms, over 2^31 - 1 ms, or not a number, with a RangeError', () => {
    for (const heartbeatMs of [0, 5, Number.NaN, Infinity, 2 ** 31, '1000' as unknown as number]) {
      expect(() => new RedisPresence({ heartbeatMs })).toThrow(
        new RangeError(presenceHeartbeatInvalidMessage(heartbeatMs)),
      );
    }
    // A NaN (Number() of an unset variable) is shown as such, not as JSON's null.
    expect(() => new RedisPresence({ heartbeatMs: Number('ten') })).toThrow('(got NaN)');
    expect(() => new RedisPresence({ heartbeatMs: '1000' as never })).toThrow('(got "1000")');
    expect(() => new RedisPresence({ heartbeatMs: 2 ** 31 - 1 })).not.toThrow();
  });
});

describe.skipIf(skip)(`RedisPresence on a real Redis${skip ? redisMissing : ''}`, () => {
  let redis: RedisProcess;
  const logger = new CaptureLogger();
  const stores: RedisPresence[] = [];
  const start = async (events: PresenceEvent[] = []) => {
    const store = new RedisPresence({ url: redis.url, prefix: 'store', heartbeatMs: HEARTBEAT_MS });
    stores.push(store);
    await store.start((event) => events.push(event));
    return store;
  };

  beforeAll(async () => {
    redis = await RedisProcess.start();
    Logger.overrideLogger(logger);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.stop()));
    logger.clear();
  });
  afterAll(async () => {
    Logger.overrideLogger(false);
    await redis?.kill();
  });

  it('while Redis is away: list and count reject, a join is recorded once it is back', async () => {
    const store = await start();
    await redis.kill();
    await expect.poll(() => store.stats().connected).toBe(false);
    await expect(store.list('t')).rejects.toThrow(presenceUnavailableMessage(redis.url));
    await expect(store.count('t')).rejects.toThrow(presenceUnavailableMessage(redis.url));
    await store.join('t', member('a')); // resolves at once
    expect(store.stats()).toMatchObject({ name: 'redis', connected: false, members: 1 });
    await redis.restart();
    await expect.poll(() => store.count('t').catch(() => -1), { timeout: 5000 }).toBe(1);
    expect(await store.list('t')).toEqual([member('a')]);
    expect(store.stats()).toMatchObject({ connected: true, members: 1 });
  });

  it('announces each join and leave once to every instance, and rejoining replaces the info', async () => {
    const seenA: PresenceEvent[] = [];
    const seenB: PresenceEvent[] = [];
    const a = await start(seenA);
    await start(seenB);
    await a.join('t', member('x'));
    await a.join('t', { clientId: 'x', info: { name: 'x2' } });
    await a.leave('t', 'x');
    await a.leave('t', 'x'); // not there any more: nothing
    const expected = [
      { topic: 't', joins: [member('x')], leaves: [] },
      { topic: 't', joins: [{ clientId: 'x', info: { name: 'x2' } }], leaves: [] },
      { topic: 't', joins: [], leaves: [{ clientId: 'x', info: { name: 'x2' } }] },
    ];
    await expect.poll(() => seenB).toEqual(expected);
    await expect.poll(() => seenA).toEqual(expected);
  });

  it('ignores, and logs, a message on its channel that is not a presence event', async () => {
    const events: PresenceEvent[] = [];
    await start(events);
    const raw = new Redis(redis.url);
    await raw.publish('store:presence', 'not json');
    await raw.publish('store:presence', '{"joins":[]}');
    raw.disconnect();
    const malformed = presenceEventMalformedMessage('store:presence');
    const warned = () => logger.entries.filter((entry) => entry.message === malformed);
    await expect.poll(() => warned().length).toBe(2);
    expect(events).toEqual([]);
  });
});
