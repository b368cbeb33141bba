import { Controller, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { encodeBrokerMessage } from '../../src/broker/broker-message.codec.js';
import { PUBLISH_SCRIPT, streamKeys } from '../../src/broker/redis-streams.lua.js';
import {
  RedisBroker,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
} from '../../src/index.js';
import { until } from '../support/app.js';
import { startRedis, startWsApp, type Cleanups } from '../e2e/history.helpers.js';
import { redisMissing, skipWithoutRedisServer } from '../support/redis.js';

const TOPIC = 'room:checked';

@Injectable()
class CheckedHandler extends WebSocketHandler {
  override async onOpen() {
    await this.subscribe(TOPIC);
    this.send('subscribed');
  }
}

@Controller()
class CheckedController {
  @WebSocketRoute('checked', CheckedHandler)
  checked() {}
}

/**
 * A publication that reached the topic's stream but that Pub/Sub never delivered, as when a
 * message is lost without a reconnection: the broker's own script, published to a channel nobody
 * follows.
 */
async function publishLost(redisUrl: string, data: string): Promise<void> {
  const redis = new Redis(redisUrl);
  const encoded = encodeBrokerMessage({ kind: 'publish', topic: TOPIC, data }, randomBytes(16));
  const [stream, meta] = streamKeys('nestjs-ws-routes', TOPIC);
  const args = [encoded, 100, 300_000, 'nobody-follows', 'unused', 'publish', 600_000];
  await redis.eval(PUBLISH_SCRIPT, 2, stream, meta, ...args);
  redis.disconnect();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Centrifugo's position check: a quiet topic's stream is read back now and then. */
describe.skipIf(skipWithoutRedisServer)(
  `the position check of quiet topics over Redis${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    const cleanups: Cleanups = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
    });

    async function start(positionCheckMs: number) {
      const redis = await startRedis(cleanups);
      const { app, url } = await startWsApp(cleanups, [CheckedController], {
        broker: new RedisBroker({ url: redis.url }),
        history: { default: {}, positionCheckMs },
      });
      const socket = new WebSocket(url('/checked'));
      cleanups.push(() => socket.terminate());
      const frames: string[] = [];
      socket.on('message', (data) => frames.push(String(data)));
      await until(() => frames.includes('subscribed'), 5000, 'subscribed');
      const registry = app.get(WebSocketRegistry);
      registry.publish(TOPIC, 'first');
      await until(() => frames.includes('first'), 5000, 'first');
      return { redis, registry, frames };
    }

    it('delivers a publication Pub/Sub lost on a topic that stays quiet, within 2 x positionCheckMs', async () => {
      const { redis, registry, frames } = await start(300);
      await publishLost(redis.url, 'lost');
      await until(() => frames.includes('lost'), 3000, 'the lost publication');
      registry.publish(TOPIC, 'next');
      await until(() => frames.includes('next'), 5000, 'next');
      await sleep(700); // two more checks: nothing twice
      expect(frames).toEqual(['subscribed', 'first', 'lost', 'next']);
    });

    it('with positionCheckMs 0 the loss only shows at the next publication (the gap is healed then)', async () => {
      const { redis, registry, frames } = await start(0);
      await publishLost(redis.url, 'lost');
      await sleep(1500);
      expect(frames).toEqual(['subscribed', 'first']);
      registry.publish(TOPIC, 'next');
      await until(() => frames.includes('next'), 5000, 'next');
      expect(frames).toEqual(['subscribed', 'first', 'lost', 'next']);
    });
  },
);
