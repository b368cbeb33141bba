import {
  Controller,
  Get,
  Injectable,
  Module,
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
import { EchoHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { ADAPTERS, connect, nextMessage, startApp } from '../support/app.js';
import { openRaw } from '../support/handshake.js';
import { handshakeRequest, headerValues, rawRequest, VALID_KEY } from '../support/raw-http.js';
import { createHash } from 'node:crypto';

// Headers from every source are merged on the 101 as on a GET's response: several Set-Cookies are
// all kept, in order; RFC 6455's own headers win over anything the app set for them.

/** Sets a cookie and a header from a guard, with the platform's own response API. */
@Injectable()
class HeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const response = context.switchToHttp().getResponse<{
      cookie?(name: string, value: string): void;
      setCookie?(name: string, value: string, options: object): void;
      header(name: string, value: string): void;
    }>();
    if (response.setCookie) response.setCookie('guard', 'g', { path: '/' });
    else response.cookie!('guard', 'g');
    response.header('X-Guard', 'yes');
    return true;
  }
}

@Controller('cookies')
class CookiesController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}

  /** The same path over plain HTTP: what a GET's response carries, to compare with the 101. */
  @Get('echo')
  page() {
    return 'page';
  }

  // Declared first: on Express a plain GET then never passes the WebSocket route's guard too.
  @Get('guarded')
  @UseGuards(HeaderGuard)
  guardedPage() {
    return 'page';
  }

  @WebSocketRoute('guarded', EchoHandler)
  @UseGuards(HeaderGuard)
  guarded() {}
}

@Module({
  imports: [WsModule.forRoot({ handshakeTimeoutMs: 2000 })],
  controllers: [CookiesController],
  providers: [HeaderGuard],
})
class CookiesModule {}

/** The cookie names of the Set-Cookie lines, in order. */
function cookieNames(raw: string): string[] {
  return headerValues(raw, 'set-cookie').map((line) => line.slice(0, line.indexOf('=')));
}

/** The 101 of a raw handshake on `path` (the socket is closed after), and a GET of the same path. */
async function both(port: number, path: string, headers: Record<string, string> = {}) {
  const { response, socket } = await openRaw(port, handshakeRequest(path, headers));
  socket.destroy();
  expect(response.status).toBe(101);
  let get = 'GET ' + path + ' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n';
  for (const [name, value] of Object.entries(headers)) get += `${name}: ${value}\r\n`;
  const page = await rawRequest(port, get + '\r\n');
  expect(page.status).toBe(200);
  return { upgrade: response.raw, page: page.raw };
}

async function echoes(url: string): Promise<void> {
  const client = await connect(url);
  client.send('ping');
  expect(String(await nextMessage(client))).toBe('ping');
  client.close();
}

/** An onRequest hook that sets a cookie with `@fastify/cookie`'s `reply.setCookie()`. */
const hookSetsCookie = (nest: NestFastifyApplication) =>
  nest
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (_request: unknown, reply: any) => {
      reply.setCookie('hooked', '1', { path: '/' });
    });

const session101 = () => session({ secret: 'test-only', resave: false, saveUninitialized: true });

describe('Set-Cookie from every source on the 101, as on a GET (fastify)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const boot = async (configure: (app: NestFastifyApplication) => unknown) => {
    const started = await startApp(
      { imports: [CookiesModule] },
      (nest) => configure(nest as NestFastifyApplication),
      'fastify',
    );
    app = started.app;
    return started;
  };
  it('express-session through middie and reply.setCookie() in an onRequest hook: both cookies on the 101, as on the GET', async () => {
    const { port, url } = await boot(async (nest) => {
      await nest.register(fastifyCookie);
      hookSetsCookie(nest);
      nest.use(session101());
    });
    const { upgrade, page } = await both(port, '/cookies/echo');
    expect(cookieNames(page)).toEqual(['hooked', 'connect.sid']);
    expect(cookieNames(upgrade)).toEqual(['hooked', 'connect.sid']);
    expect(headerValues(upgrade, 'set-cookie')).toEqual([
      'hooked=1; Path=/; SameSite=Lax',
      expect.stringMatching(/^connect\.sid=s%3A[^;]+; Path=\/; HttpOnly$/),
    ]);
    await echoes(url('/cookies/echo'));
  });

  it('@fastify/session and reply.setCookie() in an onRequest hook: both cookies on the 101, as on the GET', async () => {
    const { port, url } = await boot(async (nest) => {
      await nest.register(fastifyCookie);
      await nest.register(fastifySession, {
        secret: 'test-only-secret-of-32-characters!!',
        cookie: { secure: false },
        saveUninitialized: true,
      });
      hookSetsCookie(nest);
    });
    const { upgrade, page } = await both(port, '/cookies/echo');
    expect(cookieNames(page)).toEqual(['hooked', 'sessionId']);
    expect(cookieNames(upgrade)).toEqual(['hooked', 'sessionId']);
    await echoes(url('/cookies/echo'));
  });

  it("a middleware's res.setHeader('Set-Cookie'), a hook's and a guard's reply.setCookie() and express-session: all kept on the 101", async () => {
    const { port } = await boot(async (nest) => {
      await nest.register(fastifyCookie);
      hookSetsCookie(nest);
      nest.use((_request: unknown, response: any, next: () => void) => {
        response.setHeader('Set-Cookie', ['raw=1; Path=/']);
        next();
      });
      nest.use(session101());
    });
    const { upgrade } = await both(port, '/cookies/guarded');
    expect(cookieNames(upgrade)).toEqual(['raw', 'hooked', 'guard', 'connect.sid']);
    expect(headerValues(upgrade, 'x-guard')).toEqual(['yes']);
  });
});

describe.each(ADAPTERS)("RFC 6455's headers win on the 101 (%s)", (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("Upgrade, Connection, Sec-WebSocket-Accept, -Protocol and -Extensions set by the app are replaced by the handshake's own", async () => {
    const started = await startApp(
      { imports: [CookiesModule] },
      (nest) => {
        nest.use((_request: unknown, response: any, next: () => void) => {
          response.setHeader('Upgrade', 'h2c');
          response.setHeader('Connection', 'keep-alive');
          response.setHeader('Sec-WebSocket-Accept', 'forged');
          response.setHeader('Sec-WebSocket-Protocol', 'forged');
          response.setHeader('Sec-WebSocket-Extensions', 'forged');
          response.setHeader('X-App', 'kept');
          next();
        });
      },
      adapter,
    );
    app = started.app;
    const { response, socket } = await openRaw(started.port, handshakeRequest('/cookies/echo'));
    socket.destroy();
    expect(response.status).toBe(101);
    const accept = createHash('sha1')
      .update(VALID_KEY + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
      .digest('base64');
    expect(headerValues(response.raw, 'upgrade')).toEqual(['websocket']);
    expect(headerValues(response.raw, 'connection')).toEqual(['Upgrade']);
    expect(headerValues(response.raw, 'sec-websocket-accept')).toEqual([accept]);
    expect(headerValues(response.raw, 'sec-websocket-protocol')).toEqual([]);
    expect(headerValues(response.raw, 'sec-websocket-extensions')).toEqual([]);
    expect(headerValues(response.raw, 'x-app')).toEqual(['kept']);
    await echoes(started.url('/cookies/echo'));
  });
});

describe('Set-Cookie from every source on the 101, as on a GET (express)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("a middleware's res.cookie(), a writeHead hook (express-session) and a guard's res.cookie() and header: all on the 101, as on the GET", async () => {
    const started = await startApp({ imports: [CookiesModule] }, (nest) => {
      nest.use((_request: unknown, response: any, next: () => void) => {
        response.cookie('mw', '1');
        next();
      });
      nest.use(session101());
    });
    app = started.app;
    const { upgrade, page } = await both(started.port, '/cookies/guarded');
    expect(cookieNames(page)).toEqual(['mw', 'guard', 'connect.sid']);
    expect(cookieNames(upgrade)).toEqual(['mw', 'guard', 'connect.sid']);
    expect(headerValues(upgrade, 'x-guard')).toEqual(['yes']);
    await echoes(started.url('/cookies/guarded'));
  });
});
