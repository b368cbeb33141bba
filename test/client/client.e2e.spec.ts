import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/redis.js';
import { publisher, until, useClientApp, watchedClient } from './client-harness.js';

/** The publications of `topic` a watched client saw, as their data. */
const dataOf = (seen: Map<string, { data: string }[]>, topic: string) =>
  (seen.get(topic) ?? []).map(({ data }) => data);

describe('ReconnectingWebSocket in Node with ws, against a real app', () => {
  const app = useClientApp();

  it('after 1012 it reconnects with the position of each topic: every publication once, in order', async () => {
    const pub = await publisher(app.base);
    const watched = watchedClient(`${app.base}/feed?topics=r1:a,r1:b`);
    const { client, seen, hellos, of } = watched;
    await until('both subscribe replies', () => client.positions.size === 2);
    for (let i = 1; i <= 3; i++)
      for (const topic of ['r1:a', 'r1:b']) pub.publish(topic, `${topic} ${i}`);
    await until(
      '6 publications',
      () => dataOf(seen, 'r1:a').length + dataOf(seen, 'r1:b').length === 6,
    );

    expect(client.send(JSON.stringify({ close: [1012, 'restart'] }))).toBe(true);
    await until('reconnecting', () => of('reconnecting').length === 1);
    for (let i = 4; i <= 6; i++)
      for (const topic of ['r1:a', 'r1:b']) pub.publish(topic, `${topic} ${i}`);
    await until(
      '12 publications',
      () => dataOf(seen, 'r1:a').length + dataOf(seen, 'r1:b').length === 12,
    );

    expect(of('reconnecting')[0]).toMatchObject({
      attempt: 1,
      lastClose: { code: 1012, reason: 'restart' },
    });
    for (const topic of ['r1:a', 'r1:b']) {
      expect(dataOf(seen, topic)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `${topic} ${i}`));
      expect(seen.get(topic)!.map(({ offset }) => offset)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    // The second connection's URL carried both topics' positions, taken at the close.
    const epochA = client.positions.get('r1:a')!.epoch;
    const epochB = client.positions.get('r1:b')!.epoch;
    expect(hellos).toEqual([[], [`3:${epochA}:r1:a`, `3:${epochB}:r1:b`]]);
    expect(of('lost')).toEqual([]);
    expect(client.state).toBe('open');
    client.close();
    pub.close();
  });

  it('after 3000 (lost continuity): `lost` for each topic, then it reconnects without their positions', async () => {
    const pub = await publisher(app.base);
    const { client, seen, hellos, of } = watchedClient(`${app.base}/feed?topics=r2:a,r2:b`);
    await until('both subscribe replies', () => client.positions.size === 2);
    pub.publish('r2:a', 'one');
    await until('one publication', () => dataOf(seen, 'r2:a').length === 1);

    client.send(JSON.stringify({ close: [3000, 'lost continuity'] }));
    await until('the second connection', () => hellos.length === 2 && client.positions.size === 2);
    expect(of('lost').map(({ topic, reason }) => [topic, reason])).toEqual([
      ['r2:a', 'lost continuity'],
      ['r2:b', 'lost continuity'],
    ]);
    expect(hellos[1]).toEqual([]); // no since: the app reloads instead
    pub.publish('r2:a', 'two');
    await until('the next publication', () => dataOf(seen, 'r2:a').length === 2);
    expect(dataOf(seen, 'r2:a')).toEqual(['one', 'two']);
    client.close();
    pub.close();
  });

  it.each([1000, 1008, 3500, 3999, 4500, 4999])(
    'after %i from the server it stops for good and says why',
    async (code) => {
      const { client, hellos, of } = watchedClient(`${app.base}/feed?topics=r3`);
      await until('open', () => hellos.length === 1);
      client.send(JSON.stringify({ close: [code, 'go away'] }));
      await until('close', () => of('close').length === 1);
      expect(of('close')[0]).toMatchObject({ code, reason: 'go away', cause: 'server' });
      expect(client.state).toBe('closed');
      await new Promise((resolve) => setTimeout(resolve, 400)); // twice the largest delay here
      expect([hellos.length, of('reconnecting').length]).toEqual([1, 0]);
      expect(client.send('late')).toBe(false);
    },
  );

  it('a handshake refused with 403 stops it at once (ws says the status)', async () => {
    const { client, of } = watchedClient(`${app.base}/refused`);
    await until('close', () => of('close').length === 1);
    expect(of('close')[0]).toMatchObject({ code: 1006, cause: 'refused' });
    expect(of('close')[0].reason).toContain('403');
    expect([of('open').length, of('reconnecting').length, client.state]).toEqual([0, 0, 'closed']);
  });

  it('a server out of reach (ECONNREFUSED) is not a refusal: tried until maxAttempts', async () => {
    const port = await freePort(); // nothing listens there
    const { client, of } = watchedClient(`ws://127.0.0.1:${port}/feed`, {
      maxRefused: 1,
      refusedForMs: 0,
      maxAttempts: 3,
    });
    await until('close', () => of('close').length === 1);
    expect(of('close')[0]).toMatchObject({ code: 1006, cause: 'attempts' });
    expect(of('reconnecting').map(({ attempt }) => attempt)).toEqual([1, 2, 3]);
    expect(client.state).toBe('closed');
  });

  it('an attempt that does not open within connectTimeoutMs fails; maxAttempts caps the attempts', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((socket) => held.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const started = Date.now();
    const { of } = watchedClient(`ws://127.0.0.1:${port}/`, {
      connectTimeoutMs: 150,
      maxAttempts: 2,
    });
    await until('close', () => of('close').length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 150);
    expect(of('reconnecting').map(({ attempt, lastClose }) => [attempt, lastClose.reason])).toEqual(
      [
        [1, 'connect timeout'],
        [2, 'connect timeout'],
      ],
    );
    expect(of('close')[0]).toMatchObject({ cause: 'attempts', reason: 'connect timeout' });
    expect(held).toHaveLength(3);
    for (const socket of held) socket.destroy();
    silent.close();
  });

  it('close() stops it for good: a final close with cause client, no attempt follows, send() returns false', async () => {
    const { client, hellos, of } = watchedClient(`${app.base}/feed?topics=r4`);
    await until('open', () => hellos.length === 1);
    client.close(1000, 'bye');
    expect(client.state).toBe('closed');
    expect(of('close')[0]).toMatchObject({ code: 1000, reason: 'bye', cause: 'client' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect([hellos.length, of('reconnecting').length, of('close').length]).toEqual([1, 0, 1]);
    expect(client.send('x')).toBe(false);
  });

  it('send() before `open` returns false; with `queue` it keeps that many and sends them on open', async () => {
    const plain = watchedClient(`${app.base}/feed?topics=r5`);
    expect(plain.client.state).toBe('connecting');
    expect(plain.client.send('{}')).toBe(false);
    plain.client.close();

    // Queued: two close requests; the first one sent on open closes the connection with 4000.
    const queued = watchedClient(`${app.base}/feed?topics=r5`, { queue: 1 });
    expect(queued.client.send(JSON.stringify({ close: [4000, 'queued'] }))).toBe(true);
    expect(queued.client.send(JSON.stringify({ close: [4001, 'dropped'] }))).toBe(false);
    await until('reconnecting', () => queued.of('reconnecting').length === 1);
    expect(queued.of('reconnecting')[0].lastClose).toEqual({ code: 4000, reason: 'queued' });
    queued.client.close();
  });

  it('calls a URL function for each attempt; one that throws is tried again after the delay', async () => {
    const urls: string[] = [];
    const { client, hellos, of } = watchedClient(() => {
      if (urls.push(`${app.base}/feed?topics=r6&n=${urls.length + 1}`) === 1) {
        throw new Error('token service down');
      }
      return urls.at(-1)!;
    });
    await until('open', () => hellos.length === 1);
    expect(of('reconnecting')[0].lastClose.reason).toBe('Error: token service down');
    client.send(JSON.stringify({ close: [1013, 'later'] }));
    await until('the second connection', () => hellos.length === 2);
    expect(urls.slice(1)).toEqual([
      `${app.base}/feed?topics=r6&n=2`,
      `${app.base}/feed?topics=r6&n=3`,
    ]);
    client.close();
  });
});
