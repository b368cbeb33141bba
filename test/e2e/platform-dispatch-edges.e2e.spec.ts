import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { connect as netConnect } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EchoHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
import { ADAPTERS, connect, nextMessage, startApp, type AdapterName } from '../support/app.js';
import { openRaw, refused } from '../support/handshake.js';
import { handshakeRequest, headerValues } from '../support/raw-http.js';

@Controller('both')
class HttpFirstController {
  @Get('echo')
  http() {
    return { from: 'http' };
  }

  @WebSocketRoute('echo', EchoHandler)
  ws() {}
}

@Module({
  imports: [WsModule.forRoot({ handshakeTimeoutMs: 500 })],
  controllers: [HttpFirstController],
})
class ProbeModule {}

/** Nest 12 path syntax for a wildcard: `*splat` on Express; the Fastify adapter takes `*`. */
const WILDCARD: Record<AdapterName, string> = { express: '*splat', fastify: '*' };

function quickModule(adapter: AdapterName) {
  @Controller('quick')
  class QuickController {
    @WebSocketRoute(WILDCARD[adapter], EchoHandler, { handshakeTimeoutMs: 200 })
    splat() {}
  }
  @Module({
    imports: [WsModule.forRoot({ handshakeTimeoutMs: 8000 })],
    controllers: [QuickController],
  })
  class QuickModule {}
  return QuickModule;
}

type Gate = (app: INestApplication) => void;
const use = (
  adapter: AdapterName,
  fn: (req: IncomingMessage, res: any, next: () => void) => void,
): Gate =>
  adapter === 'express'
    ? (app) => app.use(fn)
    : (app) =>
        app
          .getHttpAdapter()
          .getInstance()
          .addHook('onRequest', (req: any, reply: any, done: () => void) =>
            fn(req.raw, reply, done),
          );

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

describe.each(ADAPTERS)('the platform dispatch at its edges (%s)', (adapter) => {
  let app: INestApplication;
  let port: number;
  let url: (path: string) => string;
  const clients: WebSocket[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await app?.close();
  });
  const boot = async (gate?: Gate) => {
    ({ app, port, url } = await startApp({ imports: [ProbeModule] }, gate, adapter));
  };

  it('an @Get declared before the @WebSocketRoute at the same path: plain GET http, upgrade ws', async () => {
    await boot();
    expect(await (await fetch(`http://127.0.0.1:${port}/both/echo`)).json()).toEqual({
      from: 'http',
    });
    const client = new WebSocket(url('/both/echo'));
    clients.push(client);
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    client.send('hi');
    expect(String(await nextMessage(client))).toBe('hi');
  });

  it('middleware setting Content-Length/Transfer-Encoding/Connection and two cookies: a clean 101', async () => {
    await boot(
      use(adapter, (_req, res, next) => {
        const raw = res.raw ?? res;
        if (adapter === 'express') {
          raw.setHeader('Content-Length', '5');
          raw.setHeader('Transfer-Encoding', 'chunked');
          raw.setHeader('Connection', 'keep-alive');
          raw.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
        } else {
          res.header('Content-Length', '5');
          res.header('Connection', 'keep-alive');
          res.header('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
        }
        next();
      }),
    );
    const { response, socket, frames } = await openRaw(port, handshakeRequest('/both/echo'));
    expect(response.status).toBe(101);
    expect(response.headers['content-length']).toBeUndefined();
    expect(response.headers['transfer-encoding']).toBeUndefined();
    expect(response.headers.connection).toBe('Upgrade');
    expect(response.raw).toMatch(/set-cookie: a=1; Path=\/\r\nset-cookie: b=2; Path=\/\r\n/i);
    socket.write(maskedText('ping'));
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    expect(frames.map((f) => String(f.payload))).toEqual(['ping']);
  });

  it('a redirect from middleware reaches the client with its Location, closed', async () => {
    await boot(
      use(adapter, (req, res, next) => {
        if (!req.headers.cookie) {
          if (adapter === 'express') res.redirect(302, '/login');
          else res.redirect('/login', 302);
        } else next();
      }),
    );
    const refusal = await refused(url('/both/echo'));
    expect(refusal.status).toBe(302);
    expect(refusal.headers.location).toBe('/login');
    expect(refusal.closedByServer).toBe(true);
  });

  it('a middleware that throws answers 500 and closes', async () => {
    await boot(
      use(adapter, () => {
        throw new Error('boom');
      }),
    );
    const refusal = await refused(url('/both/echo'));
    expect(refusal.status).toBe(500);
    expect(refusal.closedByServer).toBe(true);
  });

  const earlyFrames = async (delayedToo: boolean) => {
    const socket = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.write(Buffer.concat([Buffer.from(handshakeRequest('/both/echo')), maskedText('first')]));
    if (delayedToo) setTimeout(() => socket.write(maskedText('second')), 50);
    await new Promise((r) => setTimeout(r, 400));
    socket.destroy();
    const all = Buffer.concat(chunks).toString('latin1');
    return { status: all.slice(9, 12), rest: all.slice(all.indexOf('\r\n\r\n') + 4) };
  };

  it('a frame sent with the handshake arrives (no middleware)', async () => {
    await boot();
    expect(await earlyFrames(false)).toEqual({ status: '101', rest: '\x81\x05first' });
  });

  it('a frame sent with the handshake and one sent while middleware runs both arrive', async () => {
    await boot(use(adapter, (_req, _res, next) => void setTimeout(next, 150)));
    expect(await earlyFrames(true)).toEqual({
      status: '101',
      rest: '\x81\x05first\x81\x06second',
    });
  });

  it('app.close() answers handshakes inside slow middleware 503 at once; their next() later changes nothing', async () => {
    const nexts: (() => void)[] = [];
    await boot(use(adapter, (_req, _res, next) => void nexts.push(next)));
    const pending = [refused(url('/both/echo')), refused(url('/both/echo'))];
    while (nexts.length < 2) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    const closing = app.close();
    const refusals = await Promise.all(pending);
    expect(refusals.map((r) => [r.status, r.closedByServer])).toEqual([
      [503, true],
      [503, true],
    ]);
    for (const next of nexts) next();
    await closing;
    expect(Date.now() - started).toBeLessThan(400); // handshakeTimeoutMs is 500
    app = undefined as never;
  });

  it("a *splat route's own handshakeTimeoutMs bounds its handshakes, not the module's", async () => {
    ({ app, port, url } = await startApp(
      { imports: [quickModule(adapter)] },
      use(adapter, () => undefined),
      adapter,
    ));
    const started = Date.now();
    const refusal = await refused(url('/quick/a/b'), undefined, undefined, 7000);
    expect(refusal.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('the platform dispatch at its edges (fastify only)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
  });

  // @fastify/cookie's reply.setCookie() writes in an onSend hook: the 101 runs them as any reply.
  it("a cookie set with @fastify/cookie's reply.setCookie() on success travels on the 101, and the echo works", async () => {
    let onSendRuns = 0;
    const started = await startApp(
      { imports: [ProbeModule] },
      (nest) => {
        const fastify = nest.getHttpAdapter().getInstance();
        void (nest as NestFastifyApplication).register(fastifyCookie);
        fastify.addHook('preHandler', async (_request: unknown, reply: any) => {
          reply.setCookie('seen', '1', { path: '/', httpOnly: true });
        });
        fastify.addHook('onSend', async () => {
          onSendRuns++;
        });
      },
      'fastify',
    );
    app = started.app;
    const { response, socket } = await openRaw(started.port, handshakeRequest('/both/echo'));
    socket.destroy();
    expect(response.status).toBe(101);
    expect(response.headers['set-cookie']).toBe('seen=1; Path=/; HttpOnly; SameSite=Lax');
    expect(response.headers['content-length']).toBeUndefined();
    expect(onSendRuns).toBe(1);
    // and the connection is a working WebSocket
    const client = await connect(started.url('/both/echo'));
    client.send('ping');
    expect(String(await nextMessage(client))).toBe('ping');
    client.close();
  });

  it('an onSend hook that fails on a handshake answers its error (never a 101) and the app goes on', async () => {
    const started = await startApp(
      { imports: [ProbeModule] },
      (nest) => {
        const fastify = nest.getHttpAdapter().getInstance();
        fastify.addHook('onSend', async (request: any) => {
          if (request.headers['x-fail'] === 'yes' && request.raw.headers.upgrade) {
            throw new Error('onSend failed');
          }
        });
      },
      'fastify',
    );
    app = started.app;
    const refusal = await refused(started.url('/both/echo'), undefined, {
      headers: { 'x-fail': 'yes' },
    });
    expect(refusal.status).toBe(500);
    const client = await connect(started.url('/both/echo'));
    client.send('still here');
    expect(String(await nextMessage(client))).toBe('still here');
    client.close();
  });

  it('a client that leaves while a slow onSend hook runs costs nothing: no upgrade, app.close() is prompt', async () => {
    let release: (() => void) | undefined;
    const hookStarted = new Promise<void>((started) => {
      release = started;
    });
    const opened: unknown[] = [];
    const started = await startApp(
      { imports: [ProbeModule] },
      (nest) => {
        const fastify = nest.getHttpAdapter().getInstance();
        fastify.addHook('onSend', async () => {
          release?.();
          await new Promise((resume) => setTimeout(resume, 300));
        });
      },
      'fastify',
    );
    app = started.app;
    const registry = app.get(WebSocketRegistry);
    registry.connections$.subscribe((handler) => opened.push(handler));
    const socket = await new Promise<ReturnType<typeof netConnect>>((resolve) => {
      const connecting = netConnect(started.port, '127.0.0.1', () => {
        connecting.write(handshakeRequest('/both/echo'));
        resolve(connecting);
      });
      connecting.on('error', () => undefined);
    });
    await hookStarted;
    socket.destroy();
    await new Promise((resume) => setTimeout(resume, 500));
    expect(opened).toEqual([]);
    expect(registry.stats().connections).toBe(0);
    const closing = Date.now();
    await app.close();
    app = undefined;
    expect(Date.now() - closing).toBeLessThan(2000);
  });

  it('handshakeTimeoutMs bounds a slow onSend hook: 503, never a 101', async () => {
    const started = await startApp(
      { imports: [ProbeModule] },
      (nest) => {
        nest
          .getHttpAdapter()
          .getInstance()
          .addHook('onSend', () => new Promise((resume) => setTimeout(resume, 1500)));
      },
      'fastify',
    );
    app = started.app;
    const refusal = await refused(started.url('/both/echo'));
    expect(refusal.status).toBe(503);
    expect(refusal.headers['retry-after']).toBe('1');
  });

  // No onSend hook: the 101 leaves without reply.send(), and still carries what the hooks set.
  it('without onSend hooks, reply.header() and the raw response headers of the hooks travel on the 101', async () => {
    const started = await startApp(
      { imports: [ProbeModule] },
      (nest) => {
        const fastify = nest.getHttpAdapter().getInstance();
        fastify.addHook('onRequest', (request: any, reply: any, done: () => void) => {
          reply.raw.setHeader('Set-Cookie', 'raw=1; Path=/');
          reply.header('X-From-Hook', 'yes');
          done();
        });
        fastify.addHook('preHandler', async (_request: unknown, reply: any) => {
          reply.header('set-cookie', 'reply=2; Path=/');
        });
      },
      'fastify',
    );
    app = started.app;
    const { response, socket } = await openRaw(started.port, handshakeRequest('/both/echo'));
    socket.destroy();
    expect(response.status).toBe(101);
    expect(response.headers['x-from-hook']).toBe('yes');
    // both Set-Cookie lines, the raw response's first (Node would have replaced it)
    expect(headerValues(response.raw, 'set-cookie')).toEqual(['raw=1; Path=/', 'reply=2; Path=/']);
  });

  // The same cookie, serialized by hand and set as a header, travels too.
  it('a cookie serialized with @fastify/cookie and set with reply.header() on success travels on the 101', async () => {
    const started = await startApp(
      { imports: [ProbeModule] },
      (nest) => {
        const fastify = nest.getHttpAdapter().getInstance();
        void (nest as NestFastifyApplication).register(fastifyCookie);
        fastify.addHook('preHandler', async (_request: unknown, reply: any) => {
          const cookie = fastify.serializeCookie('seen', '1', { path: '/', httpOnly: true });
          reply.header('set-cookie', cookie);
        });
      },
      'fastify',
    );
    app = started.app;
    const { response, socket } = await openRaw(started.port, handshakeRequest('/both/echo'));
    socket.destroy();
    expect(response.status).toBe(101);
    expect(response.headers['set-cookie']).toBe('seen=1; Path=/; HttpOnly');
  });
});
