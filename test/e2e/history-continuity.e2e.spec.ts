import { Controller, Injectable, Module } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { lostContinuityReason } from '../../src/history/history.messages.js';
import {
  isReconnectCloseCode,
  RedisBroker,
  WebSocketCloseCode,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  type ContinuityLoss,
} from '../../src/index.js';
import { ADAPTERS, connect, startApp, until } from '../support/app.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';

const TOPIC = 'room:continuity';

/** Subscribes to the topic; no `onContinuityLost()`. */
@Injectable()
class PlainHandler extends WebSocketHandler {
  override async onOpen() {
    await this.subscribe(TOPIC);
    this.send('subscribed');
  }
}

/** The same, with the hook: it decides itself (here: tells its client). */
@Injectable()
class HookedHandler extends PlainHandler {
  override onContinuityLost(loss: ContinuityLoss) {
    this.send(`lost:${loss.reason}`);
  }
}

@Controller()
class ContinuityController {
  @WebSocketRoute('plain', PlainHandler)
  plain() {}
  @WebSocketRoute('hooked', HookedHandler)
  hooked() {}
}

/** A client that keeps its frames and its close. */
async function open(url: string) {
  const socket: WebSocket = await connect(url);
  const client = {
    socket,
    frames: [] as string[],
    close: undefined as [number, string] | undefined,
  };
  socket.on('message', (data) => client.frames.push(String(data)));
  socket.on('close', (code, reason) => (client.close = [code, String(reason)]));
  await until(() => client.frames.includes('subscribed'), 5000, 'subscribed');
  return client;
}

/**
 * The close-code convention for lost continuity: Redis restarts without its data, so the topic's
 * stream starts a new epoch and this instance cannot give its subscribers what they missed.
 */
describe.skipIf(skipWithoutRedisServer)(
  `a topic with history that loses continuity over Redis${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    const cleanups: (() => Promise<unknown> | void)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
    });

    it.each(ADAPTERS)(
      'closes the connections whose handler has no onContinuityLost() with 3000 (reconnect, fetch the state), and calls the hook of the others (%s)',
      async (adapter) => {
        const redis = await RedisProcess.start();
        cleanups.push(() => redis.kill());
        @Module({
          imports: [
            WsModule.forRoot({
              heartbeatMs: 0,
              broker: new RedisBroker({ url: redis.url }),
              history: { default: {} },
            }),
          ],
          controllers: [ContinuityController],
        })
        class AppModule {}
        const { app, url } = await startApp({ imports: [AppModule] }, undefined, adapter, {
          logger: ['error'],
        });
        cleanups.push(() => app.close());
        const plain = await open(url('/plain'));
        const hooked = await open(url('/hooked'));
        cleanups.push(
          () => plain.socket.terminate(),
          () => hooked.socket.terminate(),
        );
        app.get(WebSocketRegistry).publish(TOPIC, 'before');
        await until(
          () => plain.frames.includes('before') && hooked.frames.includes('before'),
          5000,
          'the first publication',
        );

        await redis.kill();
        await redis.restart(); // without persistence: the stream and its epoch are gone

        await until(() => plain.close !== undefined, 15_000, 'the plain connection closed');
        expect(plain.close).toEqual([WebSocketCloseCode.LOST_CONTINUITY, lostContinuityReason]);
        expect(isReconnectCloseCode(plain.close![0])).toBe(true);
        await until(() => hooked.frames.includes('lost:epoch'), 5000, 'the hook called');
        expect(hooked.close).toBeUndefined();
      },
      40_000,
    );
  },
);
