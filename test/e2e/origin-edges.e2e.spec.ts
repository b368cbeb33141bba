import {
  Controller,
  Injectable,
  Module,
  type CanActivate,
  type INestApplication,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EchoHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { originCheckFailedMessage } from '../../src/ws.messages.js';
import { ADAPTERS, connect, portFor, SERVERS, startApp, startOn } from '../support/app.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { refused } from '../support/handshake.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';

// A foreign origin is refused before any code of the app, whatever spelling of the route's path
// the platform's router accepts: Fastify's router decodes percent-encoded characters of the path
// (`/ech%6F` is `/echo`), so the check before the app must find the route for that spelling too.

const seen = { middleware: 0, guard: 0 };

@Injectable()
class CountingGuard implements CanActivate {
  canActivate(): boolean {
    seen.guard++;
    return true;
  }
}

@Controller()
class SpellingController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}

  @WebSocketRoute('rooms/:room', EchoHandler)
  room() {}
}

@Module({
  imports: [WsModule.forRoot({})],
  controllers: [SpellingController],
  providers: [{ provide: APP_GUARD, useClass: CountingGuard }],
})
class SpellingModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer
      .apply((_request: unknown, _response: unknown, next: () => void) => {
        seen.middleware++;
        next();
      })
      .forRoutes('*path');
  }
}

describe.each(ADAPTERS)(
  'origin refused before the app, any spelling of the path (%s)',
  (adapter) => {
    let app: INestApplication | undefined;
    let port: number;
    beforeEach(async () => {
      Object.assign(seen, { middleware: 0, guard: 0 });
      ({ app, port } = await startApp({ imports: [SpellingModule] }, undefined, adapter));
    });
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it.each(['/ech%6F', '/%65cho', '/rooms/%61', '/r%6Foms/a'])(
      'a cross-site handshake to %s is answered 403 without middleware or guard',
      async (path) => {
        const answer = await rawRequest(
          port,
          handshakeRequest(path, { Origin: 'https://evil.example' }),
        );
        expect(answer.status).toBe(403);
        expect(answer.closedByServer).toBe(true);
        expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 403, error: 'Forbidden' });
        expect(seen).toEqual({ middleware: 0, guard: 0 });
      },
    );

    it('a same-site handshake to a percent-encoded spelling still reaches the app', async () => {
      const answer = await rawRequest(
        port,
        handshakeRequest('/ech%6F', { Origin: 'http://127.0.0.1' }),
        300,
      );
      // Fastify routes it (101), Express does not (404): either way the app saw it.
      expect([101, 404]).toContain(answer.status);
      expect(seen.middleware).toBe(1);
    });
  },
);

// An `allowedOrigins` predicate runs in the server's `upgrade` event, before the app, and so does
// `selectProtocol` on the standalone port (an HTTP app runs it in the route, where Nest's filter
// answers a throw): one that throws must get the handshake a 500 (as a throwing guard does) and a
// log line, never an uncaught exception and a socket left open.

@Controller()
class ThrowingCallbacksController {
  @WebSocketRoute('buggy-origin', EchoHandler, {
    allowedOrigins: () => {
      throw new Error('predicate bug');
    },
  })
  buggyOrigin() {}

  @WebSocketRoute('buggy-protocol', EchoHandler, {
    selectProtocol: () => {
      throw new Error('selectProtocol bug');
    },
  })
  buggyProtocol() {}

  @WebSocketRoute('fine', EchoHandler)
  fine() {}
}

describe.each(SERVERS)('a throwing route callback (%s)', (server) => {
  @Module({
    imports: [WsModule.forRoot(portFor(server))],
    controllers: [ThrowingCallbacksController],
  })
  class ThrowingCallbacksModule {}

  let app: INestApplication | undefined;
  let url: (path: string) => string;
  const logger = new CaptureLogger();
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeEach(async () => {
    logger.clear();
    uncaught.length = 0;
    process.on('uncaughtException', onUncaught);
    ({ app, url } = await startOn(server, { imports: [ThrowingCallbacksModule] }));
    app.useLogger(logger);
  });
  afterEach(async () => {
    process.off('uncaughtException', onUncaught);
    await app?.close();
    app = undefined;
  });

  it("an allowedOrigins predicate: 500 with Nest's body, logged, and the server goes on", async () => {
    const refusal = await refused(url('/buggy-origin'), undefined, {
      headers: { Origin: 'https://a.example' },
    });
    expect(refusal.status).toBe(500);
    expect(JSON.parse(refusal.body)).toEqual({ statusCode: 500, message: 'Internal server error' });
    expect(logger.errors('WebSocketRoute')).toEqual([
      expect.objectContaining({
        message: originCheckFailedMessage('https://a.example'),
        detail: expect.stringContaining('predicate bug'),
      }),
    ]);
    const client = await connect(url('/fine'));
    client.terminate();
    expect(uncaught).toEqual([]);
  });

  it('a selectProtocol: 500, and no uncaught exception', async () => {
    const refusal = await refused(url('/buggy-protocol'), 'chat');
    expect(refusal.status).toBe(500);
    expect(JSON.parse(refusal.body)).toMatchObject({ statusCode: 500 });
    const client = await connect(url('/fine'));
    client.terminate();
    expect(uncaught).toEqual([]);
  });
});
