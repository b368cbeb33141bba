import {
  Controller,
  Injectable,
  Module,
  VersioningType,
  type CanActivate,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EchoHandler, WebSocketRoute, WsModule, WsServer } from '../../src/index.js';
import { foreignOriginReason, originNotAllowedReason } from '../../src/handshake.messages.js';
import { ADAPTERS, connect, startApp, type AdapterName } from '../support/app.js';
import { refused } from '../support/handshake.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';

// The origin check (default same-host rule, `allowedOrigins` list or predicate) refuses before the
// request enters the app: no middleware, Fastify hook, router handler or guard of the app sees a
// handshake refused for its origin, so a hostile page cannot spend a global ThrottlerGuard's
// budget nor run a guard with a side effect.

/** What the app saw: every counter is bumped by one piece of app code. */
const seen = { middleware: 0, hook: 0, guard: 0, predicate: 0 };

@Injectable()
class CountingGuard implements CanActivate {
  canActivate(): boolean {
    seen.guard++;
    return true;
  }
}

@Controller()
class OriginFirstController {
  @WebSocketRoute('default', EchoHandler)
  byDefault() {}

  @WebSocketRoute('listed', EchoHandler, { allowedOrigins: ['https://app.example.com'] })
  listed() {}

  @WebSocketRoute('predicate', EchoHandler, {
    allowedOrigins: (origin) => {
      seen.predicate++;
      return origin === undefined || origin.endsWith('.partner.example');
    },
  })
  predicate() {}
}

/** Two routes at one path, told apart by their version (a header), each with its own origin list. */
@Controller({ version: '1' })
class VersionOneController {
  @WebSocketRoute('multi', EchoHandler, { allowedOrigins: ['https://one.example'] })
  multi() {}
}

@Controller({ version: '2' })
class VersionTwoController {
  @WebSocketRoute('multi', EchoHandler, { allowedOrigins: ['https://two.example'] })
  multi() {}
}

function originFirstModule(port?: number, sharedPath = false) {
  @Module({
    imports: [
      WsModule.forRoot(port === undefined ? {} : { port, host: '127.0.0.1' }),
      ThrottlerModule.forRoot([{ ttl: 60_000, limit: 3 }]),
    ],
    controllers: [
      OriginFirstController,
      ...(sharedPath ? [VersionOneController, VersionTwoController] : []),
    ],
    providers: [
      // a global guard, as in the Nest docs' throttler setup, before the counting one
      ...(port === undefined ? [{ provide: APP_GUARD, useClass: ThrottlerGuard }] : []),
      { provide: APP_GUARD, useClass: CountingGuard },
    ],
  })
  class OriginFirstModule implements NestModule {
    configure(consumer: MiddlewareConsumer) {
      consumer
        .apply((_request: unknown, _response: unknown, next: () => void) => {
          seen.middleware++;
          next();
        })
        .forRoutes('*path');
    }
  }
  return OriginFirstModule;
}

const HOSTILE = { Origin: 'https://evil.example' };

describe.each(ADAPTERS)('origin refused before the app (%s)', (adapter) => {
  let app: INestApplication | undefined;
  let url: (path: string) => string;
  const clients: WebSocket[] = [];

  beforeEach(() => Object.assign(seen, { middleware: 0, hook: 0, guard: 0, predicate: 0 }));
  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
    app = undefined;
  });

  const boot = async (behindProxy = false) => {
    const platform: AdapterName | FastifyAdapter =
      adapter === 'fastify' ? new FastifyAdapter({ trustProxy: behindProxy }) : adapter;
    ({ app, url } = await startApp(
      { imports: [originFirstModule()] },
      (nest) => {
        const instance = nest.getHttpAdapter().getInstance();
        if (adapter === 'express' && behindProxy) instance.set('trust proxy', 1);
        if (adapter === 'fastify') {
          instance.addHook('onRequest', (_request: unknown, _reply: unknown, done: () => void) => {
            seen.hook++;
            done();
          });
        }
      },
      platform,
    ));
  };

  const opens = async (path: string, headers: Record<string, string> = {}) => {
    const client = await connect(url(path), undefined, { headers });
    clients.push(client);
    return client.readyState === WebSocket.OPEN;
  };

  it("three cross-site handshakes refused 403 leave a global ThrottlerGuard's budget (limit 3) untouched: the same-site ones then open", async () => {
    await boot();
    for (let i = 0; i < 3; i++) {
      const refusal = await refused(url('/default'), undefined, { headers: HOSTILE });
      expect(refusal.status).toBe(403);
      expect(refusal.closedByServer).toBe(true);
      expect(JSON.parse(refusal.body)).toEqual({
        statusCode: 403,
        message: foreignOriginReason('https://evil.example', '127.0.0.1'),
        error: 'Forbidden',
      });
    }
    expect(seen).toEqual({ middleware: 0, hook: 0, guard: 0, predicate: 0 });
    // The budget is whole: three handshakes of the app's own page open, the fourth is the throttler's.
    for (let i = 0; i < 3; i++)
      expect(await opens('/default', { Origin: 'http://127.0.0.1' })).toBe(true);
    expect(seen.guard).toBe(3);
    expect(seen.middleware).toBe(3);
    expect(seen.hook).toBe(adapter === 'fastify' ? 3 : 0);
    const throttled = await refused(url('/default'), undefined, {
      headers: { Origin: 'http://127.0.0.1' },
    });
    expect(throttled.status).toBe(429);
  });

  it('an allowedOrigins list or predicate refuses before the app too; what it lets in runs the app as before', async () => {
    await boot();
    const listed = await refused(url('/listed'), undefined, {
      headers: { Origin: 'http://127.0.0.1:5173' },
    });
    expect(listed.status).toBe(403);
    expect(JSON.parse(listed.body)).toMatchObject({
      message: originNotAllowedReason('http://127.0.0.1:5173'),
    });
    const predicate = await refused(url('/predicate'), undefined, { headers: HOSTILE });
    expect(predicate.status).toBe(403);
    expect(seen).toEqual({ middleware: 0, hook: 0, guard: 0, predicate: 1 });
    expect(await opens('/predicate', { Origin: 'https://a.partner.example' })).toBe(true);
    expect(await opens('/listed', { Origin: 'https://app.example.com' })).toBe(true);
    expect(seen.guard).toBe(2);
  });

  it('routes that share a path with different rules: refused before the app only when every rule refuses; else the route the router picks decides', async () => {
    let port: number;
    ({ app, port } = await startApp(
      { imports: [originFirstModule(undefined, true)] },
      (nest) => nest.enableVersioning({ type: VersioningType.HEADER, header: 'X-Api-Version' }),
      adapter,
    ));
    const status = async (version: string, origin: string) => {
      const request = handshakeRequest('/multi', { 'X-Api-Version': version, Origin: origin });
      return (await rawRequest(port, request, 300)).status;
    };
    expect(await status('2', 'https://evil.example')).toBe(403);
    expect(seen.guard).toBe(0);
    expect(await status('2', 'https://two.example')).toBe(101);
    expect(seen.guard).toBe(1);
    // version 2's rule lets it in before the app; the router picks version 1, whose rule refuses it
    expect(await status('1', 'https://two.example')).toBe(403);
    expect(seen.guard).toBe(2);
  });

  it('behind a trusted proxy the host compared is X-Forwarded-Host, before the app as well', async () => {
    await boot(true);
    const refusal = await refused(url('/default'), undefined, {
      headers: { Origin: 'https://public.example', 'X-Forwarded-Host': 'other.example' },
    });
    expect(refusal.status).toBe(403);
    expect(JSON.parse(refusal.body)).toMatchObject({
      message: foreignOriginReason('https://public.example', 'other.example'),
    });
    expect(seen).toEqual({ middleware: 0, hook: 0, guard: 0, predicate: 0 });
    const viaProxy = { Origin: 'https://public.example', 'X-Forwarded-Host': 'public.example' };
    expect(await opens('/default', viaProxy)).toBe(true);
    expect(seen.guard).toBe(1);
  });

  it('without a trusted proxy, X-Forwarded-Host is not believed before the app either', async () => {
    await boot(false);
    const refusal = await refused(url('/default'), undefined, {
      headers: { Origin: 'https://public.example', 'X-Forwarded-Host': 'public.example' },
    });
    expect(refusal.status).toBe(403);
    expect(seen).toEqual({ middleware: 0, hook: 0, guard: 0, predicate: 0 });
  });
});

describe('origin refused before the guards (standalone port)', () => {
  let app: INestApplication | undefined;
  beforeEach(() => Object.assign(seen, { middleware: 0, hook: 0, guard: 0, predicate: 0 }));
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("a refused origin runs none of the route's guards; an allowed one does", async () => {
    ({ app } = await startApp({ imports: [originFirstModule(0)] }));
    const wsUrl = (path: string) => app!.get(WsServer).url(path);
    const refusal = await refused(wsUrl('/default'), undefined, { headers: HOSTILE });
    expect(refusal.status).toBe(403);
    expect(JSON.parse(refusal.body)).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    expect(seen.guard).toBe(0);
    const client = await connect(wsUrl('/default'), undefined, {
      headers: { Origin: 'http://127.0.0.1:3000' },
    });
    client.terminate();
    expect(seen.guard).toBe(1);
  });
});
