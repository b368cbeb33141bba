import { Controller, Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RedisBroker,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  type StreamLimits,
  type StreamRead,
} from '../../src/index.js';
import { ADAPTERS, until } from '../support/app.js';
import { redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import {
  openFrames,
  pubPayload,
  pubs,
  sinceOf,
  startRedis,
  startWsApp,
  type Cleanups,
} from './history.helpers.js';

// `RecoveryResult.replayed` counts every publication the connection was sent before `subscribe()`
// resolved: the history read back and the live publications that arrived while it was read.

const TOPIC = 'room:busy';

/** Subscribes from `?offset=&epoch=`, then says how it went (`subscribed`). */
@Injectable()
class ResumeHandler extends WebSocketHandler {
  override async onOpen() {
    const result = await this.subscribe(TOPIC, { since: sinceOf(this.query) });
    this.send(JSON.stringify({ type: 'subscribed', ...result }));
  }
}

@Controller()
class ResumeController {
  @WebSocketRoute('resume', ResumeHandler)
  resume() {}
}

/**
 * Redis answers a history read after a while, as a busy Redis or a long stream would: the
 * publications that arrive meanwhile are live ones, sent right after the history.
 */
class SlowReadBroker extends RedisBroker {
  override async readStream(
    topic: string,
    since: number,
    limit: number,
    limits: StreamLimits,
  ): Promise<StreamRead> {
    const read = await super.readStream(topic, since, limit, limits);
    await new Promise((resolve) => setTimeout(resolve, 150));
    return read;
  }
}

describe.skipIf(skipWithoutRedisServer)(
  `replayed counts what the connection got before the result${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    const cleanups: Cleanups = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
    });

    it.each(ADAPTERS)(
      '%s: a resume while publications keep arriving: replayed equals the publications received before the result',
      async (adapter) => {
        const redis = await startRedis(cleanups);
        const { app, url } = await startWsApp(
          cleanups,
          [ResumeController],
          {
            broker: new SlowReadBroker({ url: redis.url }),
            history: { default: { payload: pubPayload } },
          },
          adapter,
        );
        const registry = app.get(WebSocketRegistry);
        const first = await openFrames(url('/resume'));
        cleanups.push(() => first.socket.terminate());
        for (let n = 1; n <= 10; n++) registry.publish(TOPIC, `m${n}`);
        await until(() => pubs(first.frames).length === 10, 5000, 'm1..m10');
        const { epoch } = pubs(first.frames)[0]!;

        let live = 0;
        const publisher = setInterval(() => registry.publish(TOPIC, `live${++live}`), 5);
        cleanups.push(() => clearInterval(publisher));
        const resumed = await openFrames(url(`/resume?offset=5&epoch=${epoch}`));
        cleanups.push(() => resumed.socket.terminate());
        clearInterval(publisher);

        const at = resumed.frames.findIndex(({ type }) => type === 'subscribed');
        const before = pubs(resumed.frames.slice(0, at));
        const result = resumed.frames[at]!;
        // m6..m10 from the history, then the live ones that came during the read, in order, once
        expect(before.map(({ offset }) => offset)).toEqual(
          Array.from({ length: before.length }, (_, i) => 6 + i),
        );
        expect(before.length).toBeGreaterThan(5);
        expect(result).toMatchObject({
          recovered: true,
          replayed: before.length,
          position: { offset: 5 + before.length, epoch },
        });
      },
    );
  },
);
