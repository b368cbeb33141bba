import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, nextMessage } from '../support/app.js';
import { startProcess, type RunningProcess } from '../support/process.js';
import { RedisProcess, redisMissing, skipWithoutRedisServer } from '../support/redis.js';

/** Each focused example under sample/examples/, built, run as its own process like `npm run sample:<name>`. */
describe('focused examples (built, run as their own processes)', () => {
  const examples: RunningProcess[] = [];
  let example: RunningProcess | undefined;
  const clients: WebSocket[] = [];
  let redis: RedisProcess | undefined;

  async function start(
    name: string,
    ready = /Listening on http:\/\/[^:]+:(\d+)/,
    env: Record<string, string> = {},
  ): Promise<number> {
    const started = await startProcess(
      `dist/sample/examples/${name}/main.js`,
      { PORT: '0', HOST: '127.0.0.1', ...env },
      ready,
    );
    examples.push(started);
    example = started;
    return Number(started.match[1]);
  }

  async function open(url: string, headers?: Record<string, string>): Promise<WebSocket> {
    const client = await connect(url, undefined, { headers });
    clients.push(client);
    return client;
  }

  /** For routes that speak first: listens before the handshake completes, so the greeting is not missed. */
  async function greeted(url: string, headers?: Record<string, string>) {
    const client = new WebSocket(url, { headers });
    clients.push(client);
    const greeting = nextMessage(client);
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    return { client, greeting: String(await greeting) };
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    const running = examples.splice(0);
    for (const started of running) started.child.kill('SIGTERM');
    await Promise.all(running.map((started) => started.exited));
    example = undefined;
    await redis?.kill();
    redis = undefined;
  });

  it('echo: /echo sends back unchanged, /echo/upper is a hand-written handler', async () => {
    const port = await start('echo');
    const echo = await open(`ws://127.0.0.1:${port}/echo`);
    echo.send('unchanged');
    expect(await nextMessage(echo)).toBe('unchanged');

    const { client: upper, greeting } = await greeted(`ws://127.0.0.1:${port}/echo/upper`);
    expect(greeting).toBe('ready: every message comes back in upper case');
    upper.send('hello');
    expect(await nextMessage(upper)).toBe('HELLO');
    upper.send(Buffer.from([0x61]));
    expect(await nextMessage(upper)).toEqual(Buffer.from([0x61]));
    upper.close(1000, 'bye');
    // The handler's onClose logs the close it saw.
    await expect.poll(() => example!.output()).toMatch(/connection [0-9a-f-]{36} closed: 1000 bye/);
  });

  it('auth: the guard answers 401, hands the user to the handler, and @Roles() answers 403', async () => {
    const port = await start('auth');
    await expect(connect(`ws://127.0.0.1:${port}/whoami`)).rejects.toThrow('401');
    await expect(connect(`ws://127.0.0.1:${port}/whoami?token=eve-token`)).rejects.toThrow('401');

    const ada = await greeted(`ws://127.0.0.1:${port}/whoami`, {
      Authorization: 'Bearer ada-token',
    });
    expect(JSON.parse(ada.greeting)).toEqual({
      path: '/whoami',
      user: { name: 'Ada', roles: ['admin'] },
    });
    const bob = await greeted(`ws://127.0.0.1:${port}/whoami?token=bob-token`);
    expect(JSON.parse(bob.greeting)).toMatchObject({ user: { name: 'Bob' } });

    const admin = await greeted(`ws://127.0.0.1:${port}/admin?token=ada-token`);
    expect(JSON.parse(admin.greeting)).toMatchObject({ path: '/admin' });
    await expect(connect(`ws://127.0.0.1:${port}/admin?token=bob-token`)).rejects.toThrow('403');

    // The same guard on a plain HTTP route: the header works, ?token= is for handshakes only.
    const me = await fetch(`http://127.0.0.1:${port}/me`, {
      headers: { Authorization: 'Bearer bob-token' },
    });
    expect(await me.json()).toEqual({ name: 'Bob', roles: [] });
    expect((await fetch(`http://127.0.0.1:${port}/me?token=bob-token`)).status).toBe(401);
  });

  it('fastify: an HTTP route and a WebSocket route on the Fastify server', async () => {
    const port = await start('fastify');
    const client = await open(`ws://127.0.0.1:${port}/echo`);
    client.send('over fastify');
    expect(await nextMessage(client)).toBe('over fastify');
    const status = await fetch(`http://127.0.0.1:${port}/status`);
    expect(await status.json()).toEqual({ adapter: 'fastify', connections: 1 });
  });

  it('standalone: the routes on a port of their own, with no HTTP server', async () => {
    const port = await start('standalone', /WebSocket routes on ws:\/\/[^:]+:(\d+)\//);
    const echo = await open(`ws://127.0.0.1:${port}/echo`);
    echo.send('no http here');
    expect(await nextMessage(echo)).toBe('no http here');
    const { greeting } = await greeted(`ws://127.0.0.1:${port}/online`);
    expect(greeting).toBe('online: 2');
    // The port serves WebSocket handshakes only: a plain request is told to upgrade.
    expect((await fetch(`http://127.0.0.1:${port}/echo`)).status).toBe(426);
    expect(example!.output()).not.toMatch(/Listening on http/);
  });

  it.skipIf(skipWithoutRedisServer)(
    `redis: a message published on one instance reaches the clients of the other${skipWithoutRedisServer ? redisMissing : ''}`,
    async () => {
      redis = await RedisProcess.start();
      const env = { REDIS_URL: redis.url };
      const ports = [await start('redis', undefined, env), await start('redis', undefined, env)];
      const [onFirst, onSecond] = await Promise.all(
        ports.map((port) => greeted(`ws://127.0.0.1:${port}/news`)),
      );
      expect(onFirst.greeting).toBe(`connected to the instance on port ${ports[0]}`);
      expect(onSecond.greeting).toBe(`connected to the instance on port ${ports[1]}`);
      const atFirst = nextMessage(onFirst.client);
      const atSecond = nextMessage(onSecond.client);
      onFirst.client.send('from the first instance');
      expect(await atSecond).toBe('from the first instance');
      expect(await atFirst).toBe('from the first instance');
      const back = nextMessage(onFirst.client);
      onSecond.client.send(Buffer.from([1, 2, 3]));
      expect(await back).toEqual(Buffer.from([1, 2, 3]));
    },
  );
});
