import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/index.js';
import { ROOT } from '../support/process.js';
import {
  publisher,
  startClientApp,
  stop,
  until,
  useClientApp,
  watchedClient,
} from './client-harness.js';

/** An HTTP server that answers every handshake with `status`: reachable, and refusing. */
async function answering(status: number): Promise<{ server: Server; port: number }> {
  const server = createServer((_request, response) => response.writeHead(status).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('ReconnectingWebSocket, what a new user runs into', () => {
  const app = useClientApp();

  it('with the default maxRefused, a server killed and started again later on the same port is waited for', async () => {
    const first = await startClientApp();
    const { client, of } = watchedClient(`${first.base}/feed?topics=d`);
    await until('subscribed', () => client.positions.size === 1);
    first.process.child.kill('SIGKILL');
    await first.process.exited;
    // Longer than 10 short attempts (50-200 ms apart): ECONNREFUSED meanwhile is not a refusal.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const second = await startClientApp({ PORT: String(first.port) });
    try {
      await until('open again', () => of('open').length === 2);
      expect(of('close')).toEqual([]);
      expect(of('reconnecting').length).toBeGreaterThan(10);
    } finally {
      client.close();
      await stop(second.process);
    }
  }, 30_000);

  it('closes before `open` from a reachable server stop it only after maxRefused and refusedForMs both', async () => {
    const { server, port } = await answering(503); // not final: counted as a refusal
    const started = Date.now();
    const { of } = watchedClient(`ws://127.0.0.1:${port}/`, {
      backoff: { firstDelayMs: 20, maxDelayMs: 40 },
      maxRefused: 3,
      refusedForMs: 600,
    });
    await until('close', () => of('close').length === 1);
    server.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(of('close')[0]).toMatchObject({ code: 1006, cause: 'refused' });
    expect(of('reconnecting').length).toBeGreaterThan(3);
  });

  it('close() with a code a browser refuses throws RangeError and changes nothing; the client goes on', async () => {
    const { client, of, hellos } = watchedClient(`${app.base}/feed?topics=cc`);
    await until('open', () => of('open').length === 1);
    expect(() => client.close(1006)).toThrow(RangeError);
    expect(() => client.close(1000, 'x'.repeat(124))).toThrow(RangeError);
    expect(client.state).toBe('open');
    client.send(JSON.stringify({ close: [1012, 'restart'] }));
    await until('open again', () => of('open').length === 2 && hellos.length === 2);
    client.close();
    client.close(); // twice: one close event
    expect(of('close')).toHaveLength(1);
    expect(of('close')[0]).toMatchObject({ code: 1000, cause: 'client' });
  });

  it.each(['connecting', 'waiting'])(
    'close() while %s leaves no timer or socket: the Node process exits by itself',
    async (mode) => {
      const child = spawn(process.execPath, ['test/client/client-exit.mjs'], {
        cwd: ROOT,
        env: { ...process.env, MODE: mode },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000); // connectTimeoutMs is 10 s
        child.on('exit', (exitCode) => {
          clearTimeout(kill);
          resolve(exitCode);
        });
      });
      expect({ code, out }).toEqual({ code: 0, out: 'closed client\n' });
    },
  );

  it("topics holding ':' '&' '=' '%' and unicode go back in `since` and resume after 1012", async () => {
    const topics = ['t:a&b=c', 't:50%?#', 't:ünï 😀'];
    const pub = await publisher(app.base);
    const query = new URLSearchParams({ topics: topics.join(',') });
    const { client, seen, hellos, of } = watchedClient(`${app.base}/feed?${query}`);
    await until('subscribed', () => client.positions.size === 3);
    for (const topic of topics) pub.publish(topic, `${topic} 1`);
    await until('3', () => topics.every((topic) => seen.get(topic)?.length === 1));
    client.send(JSON.stringify({ close: [1012, 'restart'] }));
    await until('reconnecting', () => of('reconnecting').length === 1);
    for (const topic of topics) pub.publish(topic, `${topic} 2`);
    await until('6', () => topics.every((topic) => seen.get(topic)?.length === 2));
    expect(hellos[1]).toEqual(
      topics.map((topic) => `1:${client.positions.get(topic)!.epoch}:${topic}`),
    );
    expect(of('lost')).toEqual([]);
    for (const topic of topics) {
      expect(seen.get(topic)!.map(({ data }) => data)).toEqual([`${topic} 1`, `${topic} 2`]);
    }
    client.close();
    pub.close();
  });

  it('500 topics: the positions that would make the URL too long (431) are left out, with `lost`, and it reconnects', async () => {
    const topics = Array.from({ length: 500 }, (_, i) => `m:${i}`);
    const { client, hellos, of } = watchedClient(`${app.base}/feed?topics=${topics.join(',')}`);
    await until('subscribed', () => client.positions.size === 500);
    client.send(JSON.stringify({ close: [1012, 'restart'] }));
    await until('hello again', () => hellos.length === 2);
    const sent = hellos[1].length;
    expect(sent).toBeGreaterThan(50);
    expect(of('lost').map(({ topic }) => topic)).toEqual(topics.slice(sent));
    expect(of('lost')[0].reason).toBe('too many positions for the URL');
    expect(of('close')).toEqual([]);
    await until('subscribed again', () => client.positions.size === 500);
    client.close();
  });

  it('parseSince never throws on a hostile query: huge, negative, NaN, 10,000 values', () => {
    const hostile = [
      'since=99999999999999999999:e:a',
      'since=-1:e:b',
      'since=NaN:e:c',
      'since=1e5:e:d',
      'since=%E0%A4%A:e:f', // a broken percent-escape
      'since=::',
      'since=5:e:',
      ...Array.from({ length: 10_000 }, (_, i) => `since=${i}:e:${i}`),
    ].join('&');
    const positions = parseSince(hostile);
    expect(positions.size).toBe(10_000);
    expect(['a', 'b', 'c', 'd', 'f'].some((topic) => positions.has(topic))).toBe(false);
    expect(positions.get('42')).toEqual({ offset: 42, epoch: 'e' });
  });
});
