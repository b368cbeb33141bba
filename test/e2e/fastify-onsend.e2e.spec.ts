import {
  Controller,
  Injectable,
  Module,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import session from 'express-session';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EchoHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { ADAPTERS, connect, nextMessage, startApp } from '../support/app.js';
import { openRaw, refused } from '../support/handshake.js';
import { handshakeRequest, headerValues } from '../support/raw-http.js';

// docs/handshake.md, step 9 on Fastify: the 101 is sent through the reply, so what runs on the way
// out of any reply (onSend hooks, a middleware's writeHead hook) runs for it, and it stays a clean
// RFC 6455 101 (no header describing a body).

/** Sets cookies the three ways a guard can (plain, signed), and refuses when asked to. */
@Injectable()
class CookieGuard implements CanActivate {
  /** What `@fastify/session` held for each handshake the guard saw. */
  static views: unknown[] = [];

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<{
      headers: Record<string, string>;
      session?: { get(key: string): unknown; set(key: string, value: unknown): void };
    }>();
    const reply = http.getResponse<{
      setCookie(name: string, value: string, options: object): void;
    }>();
    if (request.headers['x-cookies']) {
      reply.setCookie('guard', 'g', { path: '/' });
      reply.setCookie('signed', 's', { path: '/', signed: true });
    }
    if (request.session) {
      const views = request.session.get('views');
      CookieGuard.views.push(views);
      request.session.set('views', ((views as number | undefined) ?? 0) + 1);
    }
    if (request.headers['x-deny']) throw new UnauthorizedException();
    return true;
  }
}

@Controller('onsend')
class OnSendController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}

  @WebSocketRoute('one', EchoHandler, { maxConnections: 1 })
  one() {}

  @WebSocketRoute('guarded', EchoHandler)
  @UseGuards(CookieGuard)
  guarded() {}
}

@Module({
  imports: [WsModule.forRoot({ handshakeTimeoutMs: 2000 })],
  controllers: [OnSendController],
  providers: [CookieGuard],
})
class OnSendModule {}

/** Opens a client, checks that it echoes, closes it. */
async function echoes(url: string, headers?: Record<string, string>): Promise<void> {
  const client = await connect(url, undefined, { headers });
  client.send('ping');
  expect(String(await nextMessage(client))).toBe('ping');
  client.close();
}

describe('onSend and writeHead hooks on the 101 (fastify)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const boot = async (configure: (app: INestApplication) => unknown) => {
    const started = await startApp({ imports: [OnSendModule] }, configure, 'fastify');
    app = started.app;
    return started;
  };

  it("a middleware's writeHead hook (express-session through middie) puts its Set-Cookie on the 101, and the echo works", async () => {
    const { port, url } = await boot((nest) => {
      nest.use(session({ secret: 'test-only', resave: false, saveUninitialized: true }));
    });
    const { response, socket } = await openRaw(port, handshakeRequest('/onsend/echo'));
    socket.destroy();
    expect(response.status).toBe(101);
    expect(headerValues(response.raw, 'set-cookie')).toEqual([
      expect.stringMatching(/^connect\.sid=s%3A[^;]+; Path=\/; HttpOnly$/),
    ]);
    await echoes(url('/onsend/echo'));
  });

  it('reply.setCookie() in an onRequest hook, a preHandler hook and a guard (signed): all on the 101; on a refusal by the guard, all on the 401', async () => {
    const { port, url } = await boot(async (nest) => {
      await (nest as NestFastifyApplication).register(fastifyCookie, { secret: 'test-only' });
      const fastify = nest.getHttpAdapter().getInstance();
      fastify.addHook('onRequest', async (_request: unknown, reply: any) => {
        reply.setCookie('early', '1', { path: '/' });
      });
      fastify.addHook('preHandler', async (_request: unknown, reply: any) => {
        reply.setCookie('pre', '2', { path: '/', httpOnly: true });
      });
    });
    const expected = [
      'early=1; Path=/; SameSite=Lax',
      'pre=2; Path=/; HttpOnly; SameSite=Lax',
      'guard=g; Path=/; SameSite=Lax',
      expect.stringMatching(/^signed=s\.[A-Za-z0-9+/]+; Path=\/; SameSite=Lax$/),
    ];
    const { response, socket } = await openRaw(
      port,
      handshakeRequest('/onsend/guarded', { 'X-Cookies': 'yes' }),
    );
    socket.destroy();
    expect(response.status).toBe(101);
    expect(headerValues(response.raw, 'set-cookie')).toEqual(expected);

    const refusal = await refused(url('/onsend/guarded'), undefined, {
      headers: { 'x-cookies': 'yes', 'x-deny': 'yes' },
    });
    expect(refusal.status).toBe(401);
    expect(refusal.headers['set-cookie']).toEqual(expected);
    await echoes(url('/onsend/guarded'));
  });

  it("@fastify/session: the session a guard changed is saved by the plugin's onSend hook and its cookie arrives on the 101; the next handshake sees it", async () => {
    CookieGuard.views = [];
    const { port, url } = await boot(async (nest) => {
      const fastify = nest as NestFastifyApplication;
      await fastify.register(fastifyCookie);
      await fastify.register(fastifySession, {
        secret: 'test-only-secret-of-32-characters!!',
        cookie: { secure: false },
      });
    });
    const { response, socket } = await openRaw(port, handshakeRequest('/onsend/guarded'));
    socket.destroy();
    expect(response.status).toBe(101);
    const cookies = headerValues(response.raw, 'set-cookie');
    expect(cookies).toEqual([expect.stringMatching(/^sessionId=[^;]+; Path=\/; HttpOnly$/)]);
    await echoes(url('/onsend/guarded'), { Cookie: cookies[0].split(';')[0] });
    expect(CookieGuard.views).toEqual([undefined, 1]);
  });

  it('maxConnections holds while handshakes wait in an async onSend hook: one opens, the others get 503 with the reason', async () => {
    const { url } = await boot((nest) => {
      (nest as NestFastifyApplication)
        .getHttpAdapter()
        .getInstance()
        .addHook('onSend', () => new Promise((resolve) => setTimeout(resolve, 100)));
    });
    // Three at once: each passes the route's checks before any of them is through the hook. The
    // open one stays open until all three are answered.
    const opened: WebSocket[] = [];
    const outcomes = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<string>((resolve) => {
            const client = new WebSocket(url('/onsend/one'));
            client.once('open', () => {
              opened.push(client);
              resolve('open');
            });
            client.on('error', () => undefined);
            client.once('unexpected-response', (_request, response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () =>
                resolve(
                  `${response.statusCode} ${JSON.parse(Buffer.concat(chunks).toString()).message}`,
                ),
              );
            });
          }),
      ),
    );
    for (const client of opened) client.close();
    expect(outcomes.toSorted()).toEqual([
      '503 Too many WebSocket connections',
      '503 Too many WebSocket connections',
      'open',
    ]);
  });

  it('an onSend hook that sets Content-Encoding, Transfer-Encoding or a trailer leaves the 101 clean, and the echo works', async () => {
    const { port, url } = await boot((nest) => {
      nest
        .getHttpAdapter()
        .getInstance()
        .addHook('onSend', async (_request: unknown, reply: any) => {
          reply.header('Content-Encoding', 'gzip');
          reply.header('Transfer-Encoding', 'chunked');
          reply.trailer('X-Digest', () => 'none');
          reply.header('X-Kept', 'yes');
        });
    });
    const { response, socket } = await openRaw(port, handshakeRequest('/onsend/echo'));
    socket.destroy();
    expect(response.status).toBe(101);
    const count = (names: string[]) =>
      Object.fromEntries(names.map((name) => [name, headerValues(response.raw, name).length]));
    const body = ['content-encoding', 'transfer-encoding', 'trailer', 'content-length'];
    expect(count(body)).toEqual(Object.fromEntries(body.map((name) => [name, 0])));
    const rfc6455 = ['upgrade', 'connection', 'sec-websocket-accept'];
    expect(count(rfc6455)).toEqual(Object.fromEntries(rfc6455.map((name) => [name, 1])));
    expect(headerValues(response.raw, 'x-kept')).toEqual(['yes']);
    await echoes(url('/onsend/echo'));
  });
});

// Express runs the same hooks in its own way (docs/handshake.md, step 9): both platforms must agree.
describe.each(ADAPTERS)(
  "a middleware's writeHead hook that throws on the handshake (%s)",
  (adapter) => {
    let app: INestApplication | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it.each([false, true])(
      'answers 500 at once, never a 101 nor a hang (an async onSend hook too: %s); the next handshake opens',
      async (withOnSend) => {
        const { url } = await startApp(
          { imports: [OnSendModule] },
          (nest) => {
            nest.use((request: any, response: any, next: () => void) => {
              if (request.headers['x-throw']) {
                const writeHead = response.writeHead;
                let thrown = false;
                response.writeHead = function (...args: unknown[]) {
                  if (thrown) return Reflect.apply(writeHead, this, args);
                  thrown = true;
                  throw new Error('writeHead hook failed');
                };
              }
              next();
            });
            if (withOnSend && adapter === 'fastify') {
              nest
                .getHttpAdapter()
                .getInstance()
                .addHook('onSend', () => new Promise((resume) => setTimeout(resume, 5)));
            }
          },
          adapter,
        ).then((started) => ((app = started.app), started));
        const refusal = await refused(url('/onsend/echo'), undefined, {
          headers: { 'x-throw': 'yes' },
        });
        expect(refusal.status).toBe(500);
        expect(refusal.headers['sec-websocket-accept']).toBeUndefined();
        const client = await connect(url('/onsend/echo'));
        client.send('ping');
        expect(String(await nextMessage(client))).toBe('ping');
        client.close();
      },
    );
  },
);
