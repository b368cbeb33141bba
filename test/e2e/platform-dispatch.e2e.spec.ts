import { performance } from 'node:perf_hooks';
import {
  Catch,
  Controller,
  Get,
  HttpException,
  Injectable,
  Module,
  Req,
  UnauthorizedException,
  UseGuards,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
import { handshakeTimedOutReason } from '../../src/handshake.messages.js';
import { granularityOf } from '../../src/util/coarse-timeouts.js';
import { ADAPTERS, startApp, until, type AdapterName } from '../support/app.js';
import { openRaw, openWithGreeting, refused, type Refusal } from '../support/handshake.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';

// The table, row by row: what an HTTP GET route of the app gets, the WebSocket route at the
// same place gets too, because the handshake is dispatched by the platform as a GET.

/** What the guards and middleware saw, recorded for the assertions. */
@Injectable()
class Seen {
  guardIps: unknown[] = [];
  guardRawHeaders: unknown[] = [];
  boundMiddleware: string[] = [];
  otherMiddleware = 0;
}

/** Greets with what the platform's request carries. */
class InfoHandler extends WebSocketHandler {
  override onOpen() {
    this.send(JSON.stringify({ ip: this.request.ip, path: this.path, params: this.params }));
  }
}

/** A guard written for HTTP on the app's platform: `request.ip`, and Fastify's `request.raw`. */
@Injectable()
class PlatformGuard implements CanActivate {
  constructor(private readonly seen: Seen) {}
  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ ip: string; raw?: IncomingMessage; headers: IncomingMessage['headers'] }>();
    this.seen.guardIps.push(request.ip);
    this.seen.guardRawHeaders.push((request.raw ?? request).headers['x-probe']);
    if ((request.raw ?? request).headers['x-probe'] === 'refuse') throw new UnauthorizedException();
    return true;
  }
}

@Controller('dispatch')
@UseGuards(PlatformGuard)
class DispatchController {
  @WebSocketRoute('info', InfoHandler)
  info() {}

  @Get('http-info')
  httpInfo(@Req() request: { ip: string }) {
    return { ip: request.ip };
  }
}

@Controller('elsewhere')
class ElsewhereController {
  @Get()
  get() {
    return { ok: true };
  }
}

@Injectable()
class BoundMiddleware implements NestMiddleware {
  constructor(private readonly seen: Seen) {}
  use(
    request: IncomingMessage & { originalUrl?: string },
    response: ServerResponse,
    next: () => void,
  ) {
    // Fastify's middie mounts middleware like Express's app.use(path): `url` is relative to it.
    this.seen.boundMiddleware.push(request.originalUrl ?? request.url ?? '');
    response.setHeader('X-Bound-Middleware', 'ran');
    next();
  }
}

@Injectable()
class OtherMiddleware implements NestMiddleware {
  constructor(private readonly seen: Seen) {}
  use(_request: unknown, _response: unknown, next: () => void) {
    this.seen.otherMiddleware++;
    next();
  }
}

/** The app's own filter for 401s: its status and body reach HTTP and WebSocket clients alike. */
@Catch(UnauthorizedException)
class TeapotFilter implements ExceptionFilter {
  catch(_exception: HttpException, host: ArgumentsHost) {
    const response = host.switchToHttp().getResponse<Record<string, any>>();
    const body = { statusCode: 418, message: 'filtered by the app', error: 'Teapot' };
    // Express's `res.status().json()`, Fastify's `reply.code().send()`
    if (typeof response.code === 'function') response.code(418).send(body);
    else response.status(418).json(body);
  }
}

@Module({
  imports: [WsModule.forRoot({ handshakeTimeoutMs: 400 })],
  controllers: [DispatchController, ElsewhereController],
  providers: [Seen],
})
class DispatchModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(BoundMiddleware).forRoutes(DispatchController);
    consumer.apply(OtherMiddleware).forRoutes('elsewhere');
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Gate = (app: INestApplication) => void;

/** A global middleware (Express) or `onRequest` hook (Fastify) answering 401 without an API key. */
const apiKeyGate: Record<AdapterName, Gate> = {
  express: (app) =>
    app.use((request: IncomingMessage, response: any, next: () => void) => {
      if (request.headers['x-api-key'] === 'secret') next();
      else response.status(401).json({ statusCode: 401, message: 'API key required' });
    }),
  fastify: (app) =>
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', async (request: any, reply: any) => {
        if (request.headers['x-api-key'] !== 'secret') {
          await reply.code(401).send({ statusCode: 401, message: 'API key required' });
        }
      }),
};

/** A middleware (Express) or `onRequest` hook (Fastify) that never lets the request go on. */
const stuckGate: Record<AdapterName, Gate> = {
  express: (app) => app.use(() => undefined),
  fastify: (app) =>
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', () => new Promise(() => undefined)),
};

/** Express's `trust proxy`, Fastify's `trustProxy`. */
const behindProxy = (adapter: AdapterName) =>
  adapter === 'express' ? 'express' : new FastifyAdapter({ trustProxy: true });

function expectClosedRefusal(refusal: Refusal, status: number): void {
  expect(refusal.status).toBe(status);
  expect(refusal.closedByServer).toBe(true);
}

describe.each(ADAPTERS)('the handshake is a request of the app (%s)', (adapter) => {
  let app: INestApplication;
  let port: number;
  let url: (path: string) => string;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
  });

  const boot = async (configure?: Gate, platform: AdapterName | FastifyAdapter = adapter) => {
    ({ app, port, url } = await startApp({ imports: [DispatchModule] }, configure, platform));
  };

  const greet = async (path: string, headers?: Record<string, string>) => {
    const { client, greeting } = await openWithGreeting(url(path), undefined, { headers });
    clients.push(client);
    return JSON.parse(String(greeting)) as { ip: string; path: string };
  };

  it('a global middleware or onRequest hook that answers 401 answers the handshake, never a 101', async () => {
    await boot(apiKeyGate[adapter]);
    const http = await fetch(`http://127.0.0.1:${port}/dispatch/http-info`);
    expect(http.status).toBe(401);
    const refusal = await refused(url('/dispatch/info'));
    expectClosedRefusal(refusal, 401);
    expect(JSON.parse(refusal.body)).toEqual({ statusCode: 401, message: 'API key required' });
    expect(refusal.headers.connection).toBe('close');
    expect(app.get(Seen).guardIps).toEqual([]);
    expect((await greet('/dispatch/info', { 'X-Api-Key': 'secret' })).path).toBe('/dispatch/info');
  });

  it("guards and handlers get the platform's request: ip follows trust proxy", async () => {
    await boot(
      adapter === 'express'
        ? (nest) => nest.getHttpAdapter().getInstance().set('trust proxy', 1)
        : undefined,
      behindProxy(adapter),
    );
    const forwarded = { 'X-Forwarded-For': '203.0.113.7' };
    const http = await fetch(`http://127.0.0.1:${port}/dispatch/http-info`, { headers: forwarded });
    expect(await http.json()).toEqual({ ip: '203.0.113.7' });
    expect((await greet('/dispatch/info', forwarded)).ip).toBe('203.0.113.7');
    expect(app.get(Seen).guardIps).toEqual(['203.0.113.7', '203.0.113.7']);
  });

  it('a guard written for the platform (request.ip, request.raw on Fastify) lets the handshake in', async () => {
    await boot();
    await greet('/dispatch/info', { 'X-Probe': 'hello' });
    expect(app.get(Seen).guardIps).toEqual(['127.0.0.1']);
    expect(app.get(Seen).guardRawHeaders).toEqual(['hello']);
  });

  it('accepts an absolute-form target (RFC 7230 5.3.2)', async () => {
    await boot();
    const { response, socket } = await openRaw(
      port,
      handshakeRequest('', {}, `GET http://127.0.0.1:${port}/dispatch/info HTTP/1.1`),
    );
    socket.destroy();
    expect(response.status).toBe(101);
  });

  it("refusals go through the app's exception filters, as for HTTP", async () => {
    await boot((nest) => nest.useGlobalFilters(new TeapotFilter()));
    const http = await fetch(`http://127.0.0.1:${port}/dispatch/http-info`, {
      headers: { 'X-Probe': 'refuse' },
    });
    const expected = { statusCode: 418, message: 'filtered by the app', error: 'Teapot' };
    expect(http.status).toBe(418);
    expect(await http.json()).toEqual(expected);
    const refusal = await refused(url('/dispatch/info'), undefined, {
      headers: { 'X-Probe': 'refuse' },
    });
    expectClosedRefusal(refusal, 418);
    expect(JSON.parse(refusal.body)).toEqual(expected);
  });

  it("MiddlewareConsumer middleware bound to the route's controller runs, one bound elsewhere does not", async () => {
    await boot();
    await greet('/dispatch/info?x=1');
    const seen = app.get(Seen);
    expect(seen.boundMiddleware).toEqual(['/dispatch/info?x=1']);
    expect(seen.otherMiddleware).toBe(0);
    await fetch(`http://127.0.0.1:${port}/elsewhere`);
    expect(seen.otherMiddleware).toBe(1);
  });

  it("headers middleware set travel on the 101, RFC 6455's own untouched", async () => {
    await boot();
    const { response, socket } = await openRaw(port, handshakeRequest('/dispatch/info'));
    socket.destroy();
    expect(response.status).toBe(101);
    expect(response.headers['x-bound-middleware']).toBe('ran');
    expect(response.headers.upgrade).toBe('websocket');
    expect(response.headers.connection).toBe('Upgrade');
    expect(response.headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(response.headers['content-length']).toBeUndefined();
  });

  it('a malformed handshake is refused before any middleware runs', async () => {
    await boot();
    const response = await rawRequest(
      port,
      handshakeRequest('/dispatch/info', { 'Sec-WebSocket-Key': 'short' }),
    );
    expect(response.status).toBe(400);
    expect(app.get(Seen).boundMiddleware).toEqual([]);
  });

  it('answers 503 when middleware does not let the handshake through within handshakeTimeoutMs', async () => {
    await boot(stuckGate[adapter]);
    const started = performance.now();
    const refusal = await refused(url('/dispatch/info'));
    const elapsed = performance.now() - started;
    // handshakeTimeoutMs (400), late by at most the shared timer's granularity (and a loaded machine)
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(400 + granularityOf(400) + 500);
    expectClosedRefusal(refusal, 503);
    expect(JSON.parse(refusal.body)).toMatchObject({ message: handshakeTimedOutReason });
    expect(refusal.headers['retry-after']).toBe('1');
  });

  it('a client that leaves while a guard runs costs nothing, and close leaves no listener or socket', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await boot((nest) => nest.useGlobalGuards({ canActivate: () => gate.then(() => true) }));
    const server = app.getHttpServer() as Server;
    const listeners = server.listenerCount('request');
    const client = new WebSocket(url('/dispatch/info'));
    client.on('error', () => undefined);
    await until(() => app.get(Seen).boundMiddleware.length === 1);
    client.terminate();
    const connections = () =>
      new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count)));
    for (let i = 0; i < 300 && (await connections()) > 0; i++) await sleep(10);
    expect(await connections()).toBe(0);
    release();
    await sleep(50);
    expect(app.get(WebSocketRegistry).size).toBe(0);
    expect(server.listenerCount('request')).toBe(listeners);
    await app.close();
    expect(server.listenerCount('upgrade')).toBe(0);
    expect(server.listening).toBe(false);
  });
});
