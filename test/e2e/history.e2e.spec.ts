import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  RedisBroker,
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  type ContinuityLoss,
  type StreamPosition,
  type WebSocketMessage,
  type WsModuleOptions,
} from '../../src/index.js';
import { historyQuery, type HistoryFrame } from '../history/history-client.js';
import { ADAPTERS, messages, nextMessage, startApp, until } from '../support/app.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';

@Injectable()
class HistoryHandler extends WebSocketHandler {
  override async onOpen() {
    const since = JSON.parse(this.query.get('since') ?? '{}');
    for (const topic of (this.query.get('topics') ?? '').split(',').filter(Boolean)) {
      const result = await this.subscribe(topic, { since: since[topic] });
      this.send(JSON.stringify({ type: 'recovery', topic, ...result }));
    }
  }
  override onContinuityLost(loss: ContinuityLoss) {
    this.send(JSON.stringify({ type: 'lost', ...loss }));
  }
}

@Controller()
class HistoryController {
  @WebSocketRoute('h', HistoryHandler)
  history() {}
}

let built = 0;
const payload = (data: WebSocketMessage, { offset, epoch }: StreamPosition, topic: string) => {
  built++;
  return JSON.stringify({ type: 'pub', topic, offset, epoch, data });
};

const HISTORY: WsModuleOptions['history'] = {
  topics: {
    'short:*': { size: 3, payload },
    'few:*': { size: 100, recoveryLimit: 2, payload },
    'room:*': { payload },
  },
};

const parse = (frame: WebSocketMessage) => JSON.parse(String(frame)) as HistoryFrame;

describe.each(ADAPTERS)('topic history in one process (%s)', (adapter) => {
  let app: INestApplication;
  let registry: WebSocketRegistry;
  let base: string;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
  });

  async function start(history: WsModuleOptions['history']) {
    @Module({
      imports: [WsModule.forRoot({ heartbeatMs: 0, history })],
      controllers: [HistoryController],
    })
    class AppModule {}
    const started = await startApp({ imports: [AppModule] }, undefined, adapter, {
      logger: ['error', 'warn'],
    });
    app = started.app;
    registry = app.get(WebSocketRegistry);
    base = started.url('');
  }

  /**
   * Connects to `/h` and returns the client with its first `count` frames (by default one
   * recovery frame per topic), listening from before the handshake completes: `onOpen()`'s
   * frames may arrive with the handshake's response.
   */
  async function open(
    topics: string[],
    since: Record<string, unknown> = {},
    count = topics.length,
  ) {
    const client = new WebSocket(`${base}/h${historyQuery(topics, since)}`);
    clients.push(client);
    const frames = (await messages(client, count)).map(parse);
    return { client, frames };
  }

  it('numbers each publication with an offset and an epoch, and builds its payload once for all subscribers', async () => {
    await start(HISTORY);
    const subscribers = await Promise.all([1, 2, 3].map(() => open(['room:a'])));
    const epoch = (subscribers[0].frames[0] as { position: StreamPosition }).position.epoch;
    expect(subscribers[0].frames[0]).toEqual({
      type: 'recovery',
      topic: 'room:a',
      recovered: true,
      replayed: 0,
      position: { offset: 0, epoch },
    });
    built = 0;
    const arrived = subscribers.map(({ client }) => messages(client, 3));
    for (const data of ['one', 'two', 'three']) expect(registry.publish('room:a', data)).toBe(3);
    const expected = ['one', 'two', 'three'].map((data, i) => ({
      type: 'pub',
      topic: 'room:a',
      offset: i + 1,
      epoch,
      data,
    }));
    for (const got of await Promise.all(arrived)) expect(got.map(parse)).toEqual(expected);
    expect(built).toBe(3);
  });

  it('resumes from `since`: the missed publications in order, exactly once, then the live ones', async () => {
    await start(HISTORY);
    const first = await open(['room:a', 'room:b']);
    registry.publish('room:a', 'a1');
    const a1 = parse(await nextMessage(first.client)) as HistoryFrame & { type: 'pub' };
    first.client.terminate();
    await until(() => registry.subscriberCount('room:a') === 0);
    for (const data of ['a2', 'a3', 'a4']) registry.publish('room:a', data);
    registry.publish('room:b', 'b1');
    const since = {
      'room:a': { offset: a1.offset, epoch: a1.epoch },
      'room:b': (first.frames[1] as { position: StreamPosition }).position,
    };
    const { client, frames: replay } = await open(['room:a', 'room:b'], since, 6);
    expect(
      replay.map((frame) => [frame.type, frame.topic, 'data' in frame ? frame.data : frame.type]),
    ).toEqual([
      ['pub', 'room:a', 'a2'],
      ['pub', 'room:a', 'a3'],
      ['pub', 'room:a', 'a4'],
      ['recovery', 'room:a', 'recovery'],
      ['pub', 'room:b', 'b1'],
      ['recovery', 'room:b', 'recovery'],
    ]);
    expect(replay[3]).toMatchObject({
      recovered: true,
      replayed: 3,
      position: { offset: 4, epoch: a1.epoch },
    });
    expect(replay[5]).toMatchObject({ recovered: true, replayed: 1, position: { offset: 1 } });
    const live = nextMessage(client);
    registry.publish('room:a', 'a5');
    expect(parse(await live)).toMatchObject({ type: 'pub', offset: 5, data: 'a5' });
  });

  it('answers every bad `since` with a reason and keeps the connection subscribed, never throwing', async () => {
    await start(HISTORY);
    const { frames } = await open(['room:a', 'short:a', 'few:a']);
    const epochOf = (i: number) => (frames[i] as { position: StreamPosition }).position.epoch;
    const epoch = epochOf(0);
    for (let i = 0; i < 5; i++) {
      registry.publish('room:a', `r${i}`);
      registry.publish('short:a', `s${i}`);
      registry.publish('few:a', `f${i}`);
    }
    const epochs: Record<string, string> = {
      'room:a': epoch,
      'short:a': epochOf(1),
      'few:a': epochOf(2),
    };
    const tops: Record<string, number> = { 'room:a': 5, 'short:a': 5, 'few:a': 5 };
    const cases: [string, unknown, string][] = [
      ['room:a', { offset: 2, epoch: 'not-the-epoch' }, 'epoch'],
      ['room:a', { offset: 1000, epoch }, 'invalid'],
      ['room:a', { offset: -1, epoch }, 'invalid'],
      ['room:a', { offset: 'abc', epoch }, 'invalid'],
      ['room:a', { offset: 1.5, epoch }, 'invalid'],
      ['room:a', 'garbage', 'invalid'],
      ['short:a', { offset: 1, epoch: epochOf(1) }, 'too-old'],
      ['few:a', { offset: 1, epoch: epochOf(2) }, 'limit'],
      ['kept:a', { offset: 1, epoch }, 'no-history'],
    ];
    for (const [topic, since, reason] of cases) {
      const {
        client,
        frames: [result],
      } = await open([topic], { [topic]: since });
      const top = topic in tops ? { offset: tops[topic]++, epoch: epochs[topic] } : undefined;
      expect(result, `${topic} since ${JSON.stringify(since)}`).toEqual({
        type: 'recovery',
        topic,
        recovered: false,
        reason,
        replayed: 0,
        ...(top === undefined ? {} : { position: top }),
      });
      const live = nextMessage(client);
      registry.publish(topic, 'still subscribed');
      const got = await live;
      const data = topic in tops ? (parse(got) as { data: string }).data : got;
      expect(data).toBe('still subscribed');
    }
  });

  it('keeps no history unless configured: positions are undefined, `since` answers no-history', async () => {
    await start(undefined);
    const { client, frames } = await open(['room:a']);
    expect(frames[0]).toEqual({ type: 'recovery', topic: 'room:a', recovered: true, replayed: 0 });
    const live = nextMessage(client);
    expect(registry.publish('room:a', 'plain')).toBe(1);
    expect(await live).toBe('plain');
    const resumed = await open(['room:a'], { 'room:a': { offset: 0, epoch: 'x' } });
    expect(resumed.frames[0]).toMatchObject({ recovered: false, reason: 'no-history' });
  });

  it("picks a topic's history: an exact topic before any prefix, then the first prefix in order, then `default`", async () => {
    await start({
      topics: {
        'room:*': { size: 2, payload },
        'room:big:*': { size: 50, payload },
        'room:vip': { size: 50, payload },
      },
      default: { size: 4, payload },
    });
    const starts = new Map<string, StreamPosition>();
    for (const topic of ['room:vip', 'room:big:1', 'room:a', 'other']) {
      const { frames } = await open([topic]);
      starts.set(topic, (frames[0] as { position: StreamPosition }).position);
      for (const data of ['1', '2', '3', '4', '5']) registry.publish(topic, data);
    }
    const resume = async (topic: string, count = 1) =>
      (await open([topic], { [topic]: starts.get(topic) }, count)).frames.at(-1);
    // room:vip is listed after room:* but is exact: its size 50 keeps all five.
    expect(await resume('room:vip', 6)).toMatchObject({ recovered: true, replayed: 5 });
    // room:big:1 matches room:* first (size 2): the first three are gone.
    expect(await resume('room:big:1')).toMatchObject({ recovered: false, reason: 'too-old' });
    expect(await resume('room:a')).toMatchObject({ recovered: false, reason: 'too-old' });
    // `default` (size 4) for a topic no pattern matches.
    expect(await resume('other')).toMatchObject({ recovered: false, reason: 'too-old' });
    const fourth = { ...starts.get('other')!, offset: 1 };
    expect((await open(['other'], { other: fourth }, 5)).frames.map((f) => f.type)).toEqual([
      'pub',
      'pub',
      'pub',
      'pub',
      'recovery',
    ]);
  });

  it("starts a new epoch once a topic's history has expired, so an old position is never replayed", async () => {
    await start({ default: { ttlMs: 200, payload } });
    const { frames } = await open(['room:a']);
    const old = (frames[0] as { position: StreamPosition }).position;
    registry.publish('room:a', 'before');
    await new Promise((resolve) => setTimeout(resolve, 300));
    registry.publish('room:a', 'after');
    const resumed = await open(['room:a'], { 'room:a': old });
    expect(resumed.frames[0]).toMatchObject({
      recovered: false,
      reason: 'epoch',
      position: { offset: 1 },
    });
    expect((resumed.frames[0] as { position: StreamPosition }).position.epoch).not.toBe(old.epoch);
  });
});

describe.skipIf(skipWithoutRedisServer)(
  `topic history over Redis, through an outage longer than ioredis's retry budget${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    let redis: RedisProcess;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'history-outage-'));
      redis = await RedisProcess.start({ persistDir: dir });
    });
    afterAll(async () => {
      await redis?.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    // ioredis drops a queued command after 20 reconnection attempts (maxRetriesPerRequest); with
    // reconnections every 50 ms that is about 1 s, so a 3 s outage outlasts it (as about 21 s does
    // with the broker's own back-off).
    it.each(ADAPTERS)(
      'a publication made while Redis is down goes out, in order, once it is back (%s)',
      async (adapter) => {
        @Module({
          imports: [
            WsModule.forRoot({
              heartbeatMs: 0,
              broker: new RedisBroker({
                url: redis.url,
                redisOptions: { retryStrategy: () => 50 },
              }),
              history: { topics: { [`outage:${adapter}`]: { payload } } },
            }),
          ],
          controllers: [HistoryController],
        })
        class AppModule {}
        const { app, url } = await startApp({ imports: [AppModule] }, undefined, adapter, {
          logger: ['error'],
        });
        const registry = app.get(WebSocketRegistry);
        const topic = `outage:${adapter}`;
        const client = new WebSocket(`${url('')}/h${historyQuery([topic])}`);
        try {
          const frames: HistoryFrame[] = [];
          client.on('message', (frame: WebSocketMessage) => frames.push(parse(frame)));
          const pubs = () => frames.filter((frame) => frame.type === 'pub');
          await until(() => frames.length === 1, 5000, 'the recovery frame');
          registry.publish(topic, 'before');
          await until(() => pubs().length === 1, 5000, 'the first publication');
          await redis.kill();
          registry.publish(topic, 'during');
          await new Promise((resolve) => setTimeout(resolve, 3000));
          await redis.restart();
          await until(() => pubs().length === 2, 10_000, 'the publication made during the outage');
          registry.publish(topic, 'after');
          await until(() => pubs().length === 3, 5000, 'the publication after the outage');
          expect(pubs().map((pub) => [pub.offset, pub.data])).toEqual([
            [1, 'before'],
            [2, 'during'],
            [3, 'after'],
          ]);
          expect(registry.stats().broker.undelivered).toBe(0);
        } finally {
          client.terminate();
          await app.close();
        }
      },
      30_000,
    );
  },
);
