import { Controller, Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RedisBroker,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  type ContinuityLoss,
  type RedisBrokerOptions,
} from '../../src/index.js';
import { until } from '../support/app.js';
import {
  openFrames,
  pubPayload,
  pubs,
  sinceOf,
  startRedis,
  startWsApp,
  type Cleanups,
  type HistoryFrame,
} from './history.helpers.js';
import { redisMissing, skipWithoutRedisServer } from '../support/redis.js';

const TOPIC = 'room:quiet';
// Long enough that a resume right after the quiet spell still finds the publication after it.
const TTL_MS = 1000;

/** Subscribes, from `?offset=&epoch=` when given; says how, and any loss of continuity. */
@Injectable()
class QuietHandler extends WebSocketHandler {
  override async onOpen() {
    const result = await this.subscribe(TOPIC, { since: sinceOf(this.query) });
    this.send(JSON.stringify({ type: 'subscribed', ...result }));
  }
  override onContinuityLost(loss: ContinuityLoss) {
    this.send(JSON.stringify({ type: 'lost', reason: loss.reason }));
  }
}

@Controller()
class QuietController {
  @WebSocketRoute('quiet', QuietHandler)
  quiet() {}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes `before`, lets the history expire, publishes `after`, to a client that stays. */
async function quietGap(registry: WebSocketRegistry, client: { frames: HistoryFrame[] }) {
  registry.publish(TOPIC, 'before');
  await until(() => pubs(client.frames).length === 1, 5000, 'before');
  await sleep(TTL_MS * 2.5);
  registry.publish(TOPIC, 'after');
  await until(
    () => pubs(client.frames).length === 2 || client.frames.some((f) => f.type === 'lost'),
    5000,
    'after, or a loss',
  );
  await sleep(200);
}

/**
 * A topic whose history (`ttlMs`) expires while its subscribers stay: nothing was missed, so
 * nothing may be reported lost. Over Redis the topic's meta (epoch, top offset) outlives its
 * stream (`historyMetaTtlMs`, Centrifugo's `history_meta_ttl`).
 */
describe.skipIf(skipWithoutRedisServer)(
  `a topic quiet for longer than its history's ttlMs${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    const cleanups: Cleanups = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
    });

    async function start(broker: 'redis' | 'in-process', options: RedisBrokerOptions = {}) {
      const redis = broker === 'redis' ? await startRedis(cleanups) : undefined;
      const { app, url } = await startWsApp(cleanups, [QuietController], {
        ...(redis ? { broker: new RedisBroker({ url: redis.url, ...options }) } : {}),
        history: { default: { ttlMs: TTL_MS, payload: pubPayload } },
      });
      const connect = async (query = '') => {
        const client = await openFrames(url(`/quiet${query}`));
        cleanups.push(() => client.socket.terminate());
        return client;
      };
      return { registry: app.get(WebSocketRegistry), connect };
    }

    it.each(['redis', 'in-process'] as const)(
      'a connected subscriber gets the next publication and no loss (%s)',
      async (broker) => {
        const { registry, connect } = await start(broker);
        const client = await connect();
        await quietGap(registry, client);
        expect(client.frames.map(({ type, data }) => data ?? type)).toEqual([
          'subscribed',
          'before',
          'after',
        ]);
      },
    );

    it('over Redis the epoch stays: the next offset follows, a resume from before the gap is too-old, one from after it recovers', async () => {
      const { registry, connect } = await start('redis');
      const client = await connect();
      await quietGap(registry, client);
      const [before, after] = pubs(client.frames);
      expect(after).toMatchObject({ offset: before!.offset! + 1, epoch: before!.epoch });
      // First the one that needs `after` still in the stream (it expires TTL_MS after it).
      const fromBefore = await connect(`?offset=${before!.offset}&epoch=${before!.epoch}`);
      expect(fromBefore.frames.map(({ type, data }) => data ?? type)).toEqual([
        'after',
        'subscribed',
      ]);
      const fromStart = await connect(`?offset=${before!.offset! - 1}&epoch=${before!.epoch}`);
      expect(fromStart.frames.at(-1)).toMatchObject({
        type: 'subscribed',
        recovered: false,
        reason: 'too-old',
        position: { offset: after!.offset, epoch: before!.epoch },
      });
      expect(fromBefore.frames.at(-1)).toMatchObject({ recovered: true, replayed: 1 });
    });

    it('with historyMetaTtlMs no longer than ttlMs the epoch expires with the history: the subscriber is told', async () => {
      const { registry, connect } = await start('redis', { historyMetaTtlMs: 1 });
      const client = await connect();
      await quietGap(registry, client);
      expect(client.frames.map(({ type, data, reason }) => data ?? reason ?? type)).toEqual([
        'subscribed',
        'before',
        'epoch',
      ]);
    });
  },
);
