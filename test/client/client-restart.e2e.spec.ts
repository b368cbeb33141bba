import { afterAll, describe, expect, it } from 'vitest';
import type { RunningProcess } from '../support/process.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';
import { publisher, startClientApp, stop, until, watchedClient } from './client-harness.js';

/** Publishes `1`, `2`, … to `topic` every `everyMs` through `base` until stopped; `sent()` is the count. */
async function steadyPublisher(base: string, topic: string, everyMs = 10) {
  const pub = await publisher(base);
  let sent = 0;
  const timer = setInterval(() => pub.publish(topic, String(++sent)), everyMs);
  return {
    sent: () => sent,
    stop: () => {
      clearInterval(timer);
      pub.close();
    },
  };
}

describe('ReconnectingWebSocket across server restarts (processes killed and started again)', () => {
  const running: RunningProcess[] = [];
  let redis: RedisProcess | undefined;

  afterAll(async () => {
    await Promise.all(running.splice(0).map(stop));
    await redis?.kill();
  });

  it('in-process history: after a restart the stream is new, so `lost` (epoch), then live again', async () => {
    const first = await startClientApp();
    running.push(first.process);
    const pub = await publisher(first.base);
    const { client, seen, of } = watchedClient(`${first.base}/feed?topics=k`, {
      backoff: { firstDelayMs: 100, maxDelayMs: 500 },
      maxRefused: Infinity, // the restart takes longer than 10 short attempts
    });
    await until('subscribed', () => client.positions.size === 1);
    pub.publish('k', 'before');
    await until('before', () => seen.get('k')?.length === 1);

    await stop(running.pop()!);
    await until('reconnecting after 1001', () => of('reconnecting').length > 0);
    expect(of('reconnecting')[0].lastClose.code).toBe(1001);
    const second = await startClientApp({ PORT: String(first.port) });
    running.push(second.process);
    await until('lost', () => of('lost').length === 1);
    expect(of('lost')[0]).toMatchObject({ topic: 'k', reason: 'epoch' });
    const again = await publisher(second.base);
    again.publish('k', 'after');
    await until('after', () => seen.get('k')?.length === 2);
    expect(seen.get('k')!.map(({ data }) => data)).toEqual(['before', 'after']);
    expect(of('close')).toEqual([]);
    client.close();
    again.close();
  }, 60_000);

  it.skipIf(skipWithoutRedisServer)(
    `with Redis: killed, started again, then moved to another instance, it sees every publication once, in order${skipWithoutRedisServer ? redisMissing : ''}`,
    async () => {
      redis = await RedisProcess.start();
      const a = await startClientApp({ REDIS_URL: redis.url });
      const b = await startClientApp({ REDIS_URL: redis.url });
      running.push(a.process, b.process);
      let target = a.base; // the URL function reads it at each attempt
      const { client, seen, of } = watchedClient(() => `${target}/feed?topics=moving`, {
        backoff: { firstDelayMs: 100, maxDelayMs: 500 },
        maxRefused: Infinity, // the restart takes longer than 10 short attempts
      });
      await until('subscribed', () => client.positions.size === 1);
      const steady = await steadyPublisher(b.base, 'moving');
      const received = () => seen.get('moving')?.length ?? 0;
      await until('some publications', () => received() >= 20);

      // A is killed and started again on its port: the client resumes there.
      running.splice(running.indexOf(a.process), 1);
      await stop(a.process);
      const a2 = await startClientApp({ REDIS_URL: redis.url, PORT: String(a.port) });
      running.push(a2.process);
      await until('back on A', () => client.state === 'open' && received() >= steady.sent() - 5);

      // A goes away for good and the client's URL now names B: it resumes on B.
      target = b.base;
      running.splice(running.indexOf(a2.process), 1);
      await stop(a2.process);
      await until('on B', () => of('open').length === 3);
      const total = received() + 30;
      await until('30 more', () => received() >= total);
      steady.stop();
      const sent = steady.sent();
      await until('all of them', () => received() >= sent, 15_000);

      const data = seen.get('moving')!.map((publication) => Number(publication.data));
      expect(data).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
      expect(seen.get('moving')!.map(({ offset }) => offset)).toEqual(data);
      expect(
        of('reconnecting')
          .map(({ lastClose }) => lastClose.code)
          .slice(0, 1),
      ).toEqual([1001]);
      expect(of('lost')).toEqual([]);
      client.close();
    },
    90_000,
  );
});
