import { Controller, Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RedisBroker,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  type ContinuityLoss,
} from '../../src/index.js';
import { ADAPTERS, until, type AdapterName } from '../support/app.js';
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

const TOPIC = 'room:edges';

/**
 * Subscribes from `?offset=&epoch=` when given. With `?flip`, first starts a resume and
 * unsubscribes at once, then subscribes again (a client that switched rooms and back), and says
 * how the first one ended (`first`); with `?leave`, unsubscribes while its only resume reads.
 */
@Injectable()
class EdgesHandler extends WebSocketHandler {
  override async onOpen() {
    const since = sinceOf(this.query);
    if (this.query.has('flip') || this.query.has('leave')) {
      const first = this.subscribe(TOPIC, { since });
      this.unsubscribe(TOPIC);
      const result = await first;
      this.send(JSON.stringify({ type: 'first', ...result }));
      if (this.query.has('leave')) return;
    }
    const result = await this.subscribe(TOPIC, { since });
    this.send(JSON.stringify({ type: 'subscribed', ...result }));
  }
  override onContinuityLost(loss: ContinuityLoss) {
    this.send(JSON.stringify({ type: 'lost', reason: loss.reason }));
  }
}

@Controller()
class EdgesController {
  @WebSocketRoute('edges', EdgesHandler)
  edges() {}
}

type Connect = (query?: string, first?: string) => ReturnType<typeof openFrames>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A subscriber that got m1..m3; resolves with it and their epoch. */
async function threePublished(registry: WebSocketRegistry, connect: Connect) {
  const client = await connect();
  for (const n of [1, 2, 3]) registry.publish(TOPIC, `m${n}`);
  await until(() => pubs(client.frames).length === 3, 5000, 'm1..m3');
  return { client, epoch: pubs(client.frames)[0]!.epoch! };
}

describe.skipIf(skipWithoutRedisServer)(
  `history over Redis, edge cases${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    const cleanups: Cleanups = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).toReversed()) await cleanup();
    });

    async function start(adapter: AdapterName) {
      const redis = await startRedis(cleanups);
      const { app, url } = await startWsApp(
        cleanups,
        [EdgesController],
        {
          broker: new RedisBroker({ url: redis.url }),
          history: { default: { payload: pubPayload } },
        },
        adapter,
      );
      const connect: Connect = async (query = '', first = 'subscribed') => {
        const client = await openFrames(url(`/edges${query}`), first);
        cleanups.push(() => client.socket.terminate());
        return client;
      };
      return { redis, registry: app.get(WebSocketRegistry), connect };
    }

    describe.each(ADAPTERS)('%s', (adapter) => {
      it('unsubscribing and subscribing again while a resume reads: the history is replayed once, the first resume resolves closed', async () => {
        const { registry, connect } = await start(adapter);
        const { epoch } = await threePublished(registry, connect);
        const flip = await connect(`?offset=0&epoch=${epoch}&flip`);
        registry.publish(TOPIC, 'm4');
        await until(() => pubs(flip.frames).length >= 4, 5000, 'm4');
        await sleep(200);
        expect(flip.frames.map(({ type, data }) => data ?? type)).toEqual([
          'first',
          'm1',
          'm2',
          'm3',
          'subscribed',
          'm4',
        ]);
        expect(flip.frames[0]).toEqual({
          type: 'first',
          recovered: false,
          reason: 'closed',
          replayed: 0,
        });
        expect(flip.frames[4]).toMatchObject({
          recovered: true,
          replayed: 3,
          position: { offset: 3 },
        });
      });

      it('unsubscribing while its resume reads: nothing is replayed to a connection that left', async () => {
        const { registry, connect } = await start(adapter);
        const { epoch } = await threePublished(registry, connect);
        const left = await connect(`?offset=0&epoch=${epoch}&leave`, 'first');
        registry.publish(TOPIC, 'm4');
        await sleep(300);
        expect(left.frames).toEqual([
          { type: 'first', recovered: false, reason: 'closed', replayed: 0 },
        ]);
      });

      it('a stream that outlived its meta (evicted): a new epoch with an empty stream, nothing undelivered, no old entry replayed as new', async () => {
        const { redis, registry, connect } = await start(adapter);
        const { client, epoch } = await threePublished(registry, connect);
        // What `maxmemory` eviction does to the meta hash alone.
        await redis.cli('DEL', `nestjs-ws-routes:{${TOPIC}}:meta`);
        for (const n of [4, 5, 6]) registry.publish(TOPIC, `m${n}`);
        await until(() => client.frames.some(({ type }) => type === 'lost'), 5000, 'the loss');
        expect(client.frames.at(-1)).toEqual({ type: 'lost', reason: 'epoch' });
        registry.publish(TOPIC, 'after');
        await until(() => pubs(client.frames).at(-1)?.data === 'after', 5000, 'after');
        const fresh = pubs(client.frames).at(-1)!;
        expect(fresh).toMatchObject({ offset: 4 });
        expect(fresh.epoch).not.toBe(epoch);
        expect(registry.stats().broker).toMatchObject({ undelivered: 0, published: 7 });
        const resumed = await connect(`?offset=0&epoch=${fresh.epoch}`);
        expect(resumed.frames.map(({ type, data }) => data ?? type)).toEqual([
          'm4',
          'm5',
          'm6',
          'after',
          'subscribed',
        ]);
        expect(resumed.frames.at(-1)).toMatchObject({ recovered: true, replayed: 4 });
      });
    });
  },
);
