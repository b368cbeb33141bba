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
import { ADAPTERS, startApp } from '../support/app.js';
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
