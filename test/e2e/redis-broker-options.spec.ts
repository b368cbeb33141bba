import { describe, expect, it } from 'vitest';
import {
  invalidRedisBrokerOptionMessage,
  redisClusterRoutingMessage,
} from '../../src/broker/broker.messages.js';
import { checkClusterClientVersion } from '../../src/redis/ioredis.client.js';
import {
  redisClusterClientTooOldMessage,
  redisUrlAndClusterMessage,
} from '../../src/redis/redis.messages.js';
import { RedisBroker, type RedisBrokerOptions } from '../../src/index.js';

const construct = (options: Record<string, unknown>) =>
  new RedisBroker(options as RedisBrokerOptions);

describe('new RedisBroker(options) refuses what it could only misread later', () => {
  const refused: [option: string, values: unknown[], expected: string][] = [
    // A typo would otherwise silently mean single-channel routing.
    [
      'routing',
      ['intrest', 'sharded', '', 1, null],
      "'interest' (the default) or 'single-channel'",
    ],
    [
      'cluster',
      [[], ['127.0.0.1:7000'], [{ host: '127.0.0.1' }], [{ host: 'h', port: 0 }], {}],
      "a non-empty array of { host: 'h', port: 6379 }",
    ],
    ['connectTimeoutMs', [-1, Number.NaN, '5000', 2 ** 31], 'milliseconds from 0 to 2147483647'],
    ['readTimeoutMs', [-1, Number.NaN, '5000', 2 ** 31], 'milliseconds from 0 to 2147483647'],
    [
      'historyMetaTtlMs',
      [0, -1, 1.5, Number.NaN, '60000', 2 ** 53],
      'an integer of milliseconds >= 1',
    ],
  ];
  it.each(refused)(
    'refuses a %s it cannot use, with a TypeError that says what it expects',
    (option, values, expected) => {
      for (const value of values) {
        const construction = () => construct({ [option]: value });
        expect(construction).toThrow(TypeError);
        expect(construction).toThrow(invalidRedisBrokerOptionMessage(option, value, expected));
      }
    },
  );

  it('takes every documented value, and still refuses single-channel routing on a cluster', () => {
    for (const options of [
      {},
      { routing: 'interest' },
      { routing: 'single-channel', connectTimeoutMs: 0, readTimeoutMs: 1000 },
      { historyMetaTtlMs: 1 },
      { historyMetaTtlMs: 365 * 24 * 3600 * 1000 },
      { cluster: [{ host: '127.0.0.1', port: 7000 }], routing: 'interest', connectTimeoutMs: 2000 },
    ])
      expect(construct(options)).toBeInstanceOf(RedisBroker);
    expect(() =>
      construct({ cluster: [{ host: '127.0.0.1', port: 7000 }], routing: 'single-channel' }),
    ).toThrow(redisClusterRoutingMessage);
  });

  it('refuses url and cluster together, as RedisPresence does (which one was meant?)', () => {
    expect(() =>
      construct({ url: 'redis://127.0.0.1:6379', cluster: [{ host: '127.0.0.1', port: 7000 }] }),
    ).toThrow(redisUrlAndClusterMessage('RedisBroker'));
  });

  it('a cluster needs ioredis 5.9 or later (older sharded subscribers never subscribe again after a shard restarts)', () => {
    for (const version of ['4.28.5', '5.0.0', '5.6.0', '5.8.2'])
      expect(() => checkClusterClientVersion(version)).toThrow(
        redisClusterClientTooOldMessage(version),
      );
    for (const version of ['5.9.0', '5.11.1', '6.0.0', '7.0.0-beta.1'])
      expect(() => checkClusterClientVersion(version)).not.toThrow();
  });
});
