import {
  Controller,
  Get,
  Injectable,
  Module,
  type CanActivate,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EchoHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { ADAPTERS, startApp } from '../support/app.js';
import { rawRequest } from '../support/raw-http.js';

// A plain HTTP request (no upgrade) to a WebSocket route's path never runs that route's guards:
// it goes to the app's own GET route at the path, or to the `426` answer, and only their guards
// run, once. Fastify's route constraint does so; Express must too (a global ThrottlerGuard would
// else count one plain request twice).

let guardRuns = 0;

@Injectable()
class CountingGuard implements CanActivate {
  canActivate(): boolean {
    guardRuns++;
    return true;
  }
}

@Controller()
class SharedPathController {
  @WebSocketRoute('shared', EchoHandler)
  socket() {}

  @Get('shared')
  page() {
    return 'page';
  }

  @WebSocketRoute('socket-only', EchoHandler)
  socketOnly() {}
}

@Module({
  imports: [WsModule.forRoot({})],
  controllers: [SharedPathController],
  providers: [{ provide: APP_GUARD, useClass: CountingGuard }],
})
class SharedPathModule {}

const plainGet = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://elsewhere.example\r\nConnection: close\r\n\r\n`;

describe.each(ADAPTERS)('a plain GET at a WebSocket path (%s)', (adapter) => {
  let app: INestApplication | undefined;
  let port: number;
  beforeEach(async () => {
    guardRuns = 0;
    ({ app, port } = await startApp({ imports: [SharedPathModule] }, undefined, adapter));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("with a foreign Origin is served by the app's GET route, its guard run once", async () => {
    const answer = await rawRequest(port, plainGet('/shared'));
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('page');
    expect(guardRuns).toBe(1);
  });

  it('without a GET route gets the 426 answer, no guard run', async () => {
    const answer = await rawRequest(port, plainGet('/socket-only'));
    expect(answer.status).toBe(426);
    expect(guardRuns).toBe(0);
  });
});
