import { Controller, Get, Module, Param } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { connectWebSocket } from '../../src/testing/index.js';
import { malformedParamMessage, noRouteReason } from '../../src/handshake.messages.js';
import { portFor, SERVERS, startOn, type ServerName } from '../support/app.js';
import { openRaw } from '../support/handshake.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';

/** Not valid UTF-8 percent-encoding: `decodeURIComponent()` refuses it, as Express and Fastify do. */
const MALFORMED = '%E0%A4%A';

@Controller()
class TargetsController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}

  @WebSocketRoute('rooms/:room', EchoHandler)
  room() {}

  @WebSocketRoute('shelves/:shelf/books', EchoHandler)
  books() {}

  @WebSocketRoute('shelves/:label/maps', EchoHandler)
  maps() {}

  @Get('http/:id')
  http(@Param('id') id: string) {
    return { id };
  }
}

function appModule(server: ServerName) {
  @Module({
    imports: [WsModule.forRoot({ heartbeatMs: 0, ...portFor(server) })],
    controllers: [TargetsController],
  })
  class TargetsModule {}
  return TargetsModule;
}

/** Status and message of the answer to a raw request. */
async function answer(port: number, request: string): Promise<[number, string]> {
  const { status, body } = await rawRequest(port, request);
  return [status, (JSON.parse(body) as { message: string }).message];
}

describe.each(SERVERS)('request targets (%s)', (server) => {
  let app: Awaited<ReturnType<typeof startOn>>['app'];
  let url: (path: string) => string;
  let port: number;

  beforeAll(async () => {
    ({ app, url } = await startOn(server, { imports: [appModule(server)] }));
    port = Number(new URL(url('/')).port);
  });
  afterAll(() => app.close());

  it('a malformed percent-encoding in a :param is a bad request: 400 with a reason, not 404', async () => {
    const client = await connectWebSocket(url(`/rooms/${MALFORMED}`));
    expect(client.rejection?.status).toBe(400);
    // On an HTTP app the platform's router answers it, exactly as a plain GET there (issue 13).
    const expected =
      server === 'standalone'
        ? { statusCode: 400, message: malformedParamMessage('room') }
        : JSON.parse(
            (
              await rawRequest(
                port,
                `GET /rooms/${MALFORMED} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
              )
            ).body,
          );
    expect(expected.statusCode).toBe(400);
    expect(JSON.parse(client.rejection!.body)).toMatchObject(expected);
    // The same segment, well formed, opens.
    const ok = await connectWebSocket(url('/rooms/caf%C3%A9'));
    expect(ok.isOpen).toBe(true);
    ok.terminate();
  });

  it('the app answers the same path on an HTTP route 400 too', async () => {
    const httpPort = (app.getHttpServer().address() as AddressInfo).port;
    const response = await rawRequest(
      httpPort,
      `GET /http/${MALFORMED} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    expect(response.status).toBe(400);
  });

  it('an absolute-form target (RFC 7230 5.3.2) is accepted like its origin form', async () => {
    for (const target of [`http://127.0.0.1:${port}/echo`, `ws://127.0.0.1:${port}/echo?x=1`]) {
      const { response, socket } = await openRaw(
        port,
        handshakeRequest('', {}, `GET ${target} HTTP/1.1`),
      );
      socket.destroy();
      expect({ target, status: response.status }).toEqual({ target, status: 101 });
    }
  });

  it("a malformed :param on a path no route has is 404; on a route, the 400 names that route's :param", async () => {
    const paths = [`/shelves/${MALFORMED}/atlas`, `/shelves/${MALFORMED}/maps`];
    const answers: Record<string, [number, string]> = {};
    for (const path of paths) answers[path] = await answer(port, handshakeRequest(path));
    // On an HTTP app the platform's router decides, exactly as for a plain GET there (issue 13):
    // Express 404 for no route and 400 on the route, Fastify 400 for any malformed path.
    const expected: Record<string, [number, string]> = {};
    for (const path of paths) {
      expected[path] =
        server === 'standalone'
          ? path.endsWith('/atlas')
            ? [404, noRouteReason]
            : [400, malformedParamMessage('label')]
          : await answer(
              port,
              `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
            );
    }
    expect(answers).toEqual(expected);
    expect(answers[paths[1]!]![0]).toBe(400);
  });

  it('in an absolute-form target the path ends at the query: "http://host?to=/echo" is "/"', async () => {
    const { status } = await rawRequest(
      port,
      handshakeRequest('', {}, 'GET http://127.0.0.1?to=/echo HTTP/1.1'),
    );
    expect(status).toBe(404);
  });
});
