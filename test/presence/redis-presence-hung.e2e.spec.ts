import { Controller, Injectable, Module } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RedisPresence,
  WebSocketCloseCode,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
} from '../../src/index.js';
import { presenceUnavailableMessage } from '../../src/presence/presence.messages.js';
import { connectWebSocket } from '../../src/testing/index.js';
import { ADAPTERS, startApp, until } from '../support/app.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';

const skip = skipWithoutRedisServer;
/** The store's default `commandTimeout` (documented in docs/presence.md). */
const DEFAULT_COMMAND_TIMEOUT_MS = 5000;

/** Joins `lobby`, sends the members; closes with 1013 and the error when presence is unavailable. */
@Injectable()
class LobbyHandler extends WebSocketHandler {
  constructor(private readonly registry: WebSocketRegistry) {
    super();
  }
  override async onOpen() {
    await this.joinPresence('lobby', { name: this.query.get('name') });
    try {
      this.send(JSON.stringify(await this.registry.presence('lobby')));
    } catch (error) {
      this.send((error as Error).message);
      this.close(WebSocketCloseCode.TRY_AGAIN_LATER, 'try again later');
    }
  }
}

@Controller()
class LobbyController {
  @WebSocketRoute('/lobby', LobbyHandler)
  lobby() {}
}

// A paused Redis (SIGSTOP) keeps its connections open and answers nothing: without a command
// timeout every join, list and the shutdown of the app waited until it was resumed.
describe.skipIf(skip)(
  `RedisPresence with a hung Redis (SIGSTOP)${skip ? redisMissing : ''}`,
  () => {
    let redis: RedisProcess;
    beforeAll(async () => {
      redis = await RedisProcess.start();
    });
    afterAll(async () => {
      redis?.signal('SIGCONT');
      await redis?.kill();
    });

    it('with the default command timeout: list and count reject, join resolves, stop ends', async () => {
      const store = new RedisPresence({ url: redis.url, prefix: 'hung-store', heartbeatMs: 1000 });
      await store.start(() => {});
      await store.join('t', { clientId: 'a', info: {} });
      redis.signal('SIGSTOP');
      try {
        const started = Date.now();
        const unavailable = presenceUnavailableMessage(redis.url);
        await Promise.all([
          expect(store.list('t')).rejects.toThrow(unavailable),
          expect(store.count('t')).rejects.toThrow(unavailable),
          store.join('t', { clientId: 'b', info: {} }), // resolves: recorded by a later refresh
          store.leave('t', 'a'),
        ]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(DEFAULT_COMMAND_TIMEOUT_MS - 100);
        await store.stop(); // the pending leave gives up; the subscriber is dropped, not quit
      } finally {
        redis.signal('SIGCONT');
      }
    }, 30_000);

    it('stats().presence.connected is false while commands time out, true once Redis answers again', async () => {
      const store = new RedisPresence({
        url: redis.url,
        prefix: 'hung-stats',
        heartbeatMs: 500,
        redisOptions: { commandTimeout: 300 },
      });
      await store.start(() => {});
      try {
        await store.join('t', { clientId: 'a', info: {} });
        expect(store.stats().connected).toBe(true);
        redis.signal('SIGSTOP');
        try {
          await expect(store.count('t')).rejects.toThrow(presenceUnavailableMessage(redis.url));
          expect(store.stats().connected).toBe(false);
        } finally {
          redis.signal('SIGCONT');
        }
        // the next refresh or sweep (every heartbeat) is answered
        await until(() => store.stats().connected, 5000, 'connected again');
        expect(await store.count('t')).toBe(1);
      } finally {
        await store.stop();
      }
    }, 20_000);

    for (const adapter of ADAPTERS) {
      it(`${adapter}: a client is answered 1013 and app.close() ends while Redis is paused`, async () => {
        @Module({
          imports: [
            WsModule.forRoot({
              presence: new RedisPresence({
                url: redis.url,
                prefix: `hung-${adapter}`,
                heartbeatMs: 1000,
                redisOptions: { commandTimeout: 300 },
              }),
            }),
          ],
          controllers: [LobbyController],
        })
        class AppModule {}
        const { app, url } = await startApp({ imports: [AppModule] }, undefined, adapter);
        const first = await connectWebSocket(url('/lobby?name=Ada'));
        expect(JSON.parse(String(await first.nextMessage()))).toEqual([
          { clientId: expect.any(String), info: { name: 'Ada' } },
        ]);
        redis.signal('SIGSTOP');
        try {
          const second = await connectWebSocket(url('/lobby?name=Bob'));
          expect(String(await second.nextMessage())).toBe(presenceUnavailableMessage(redis.url));
          expect((await second.closed).code).toBe(WebSocketCloseCode.TRY_AGAIN_LATER);
          await app.close(); // closes Ada: her leave waits 300 ms at most, then shutdown ends
          expect((await first.closed).code).toBe(WebSocketCloseCode.GOING_AWAY);
        } finally {
          redis.signal('SIGCONT');
        }
      }, 20_000);
    }
  },
);
