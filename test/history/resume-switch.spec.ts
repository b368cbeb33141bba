import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBroker } from '../../src/broker/redis.broker.js';
import type { WebSocketHandler } from '../../src/handler/websocket-handler.js';
import { TopicSequencer } from '../../src/history/topic-sequencer.js';
import type { TopicStreamsHost } from '../../src/history/topic-streams.host.js';
import type { WebSocketMessage } from '../../src/interfaces/websocket-message.interface.js';
import { until } from '../support/app.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';

const HISTORY = { size: 100, ttlMs: 60_000, recoveryLimit: 100, payload: undefined };
const TOPIC = 'switch';

/** What the sequencer sent, per connection id, through a registry-like host (members + direct). */
function recordingHost() {
  const members = new Set<WebSocketHandler>();
  const got = new Map<string, WebSocketMessage[]>();
  const send = (handler: WebSocketHandler, payload: WebSocketMessage) => {
    const list = got.get(handler.id) ?? [];
    got.set(handler.id, list);
    list.push(payload);
  };
  const host: TopicStreamsHost = {
    emit: (_topic, payload) => {
      for (const member of members) send(member, payload);
      return members.size;
    },
    deliver: send,
    join: (handler) => members.add(handler) !== undefined,
    lost: () => {},
  };
  return { host, got };
}

const handler = (id: string) => ({ id }) as WebSocketHandler;

/**
 * The switch from a resume's replay to the live publications, against a real Redis, with the
 * sequencer's calls made in the order that raced in the three-instance resume test: the resume's
 * read, a publication, then the topic's re-read (the one interest routing asks for once the
 * channel is subscribed), all three on one connection so that their replies arrive together.
 */
describe.skipIf(skipWithoutRedisServer)(
  `resume switch over Redis${skipWithoutRedisServer ? redisMissing : ''}`,
  () => {
    let redis: RedisProcess;
    let broker: RedisBroker;
    beforeAll(async () => {
      redis = await RedisProcess.start();
      broker = new RedisBroker({ url: redis.url });
      await broker.start(() => {});
    });
    afterAll(async () => {
      await broker?.stop();
      await redis?.kill();
    });

    it('sends nothing newer than the resolved position before the code after `await subscribe()` ran', async () => {
      const { host, got } = recordingHost();
      const sequencer = new TopicSequencer(broker, host);
      const publish = (data: string) =>
        broker.publish({ kind: 'publish', topic: TOPIC, data, history: HISTORY });
      // A first subscriber makes the sequencer follow the topic from the stream's top (0).
      await sequencer.subscribe(handler('first'), TOPIC, HISTORY, {});
      for (const data of ['a', 'b', 'c']) publish(data);
      sequencer.resync(TOPIC);
      await until(() => got.get('first')?.length === 3, 5000, 'the first subscriber at offset 3');
      const epoch = (await broker.readStream(TOPIC, 0, 0, HISTORY)).epoch;

      const resuming = sequencer.subscribe(handler('resumer'), TOPIC, HISTORY, {
        since: { offset: 0, epoch },
      });
      publish('d');
      sequencer.resync(TOPIC);
      const result = await resuming;
      // What a handler does right after the await: its own frame carrying `result.position`.
      const beforeItsFrame = [...(got.get('resumer') ?? [])];

      expect(result).toMatchObject({
        recovered: true,
        replayed: 3,
        position: { offset: 3, epoch },
      });
      expect(beforeItsFrame).toEqual(['a', 'b', 'c']);
      await until(() => got.get('resumer')?.length === 4, 5000, 'the live publication');
      expect(got.get('resumer')).toEqual(['a', 'b', 'c', 'd']);
    });
  },
);
