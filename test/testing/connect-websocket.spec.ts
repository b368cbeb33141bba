import {
  Controller,
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type INestApplication,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  EchoHandler,
  WebSocketHandler,
  WebSocketRoute,
  WsModule,
  type WebSocketMessage,
} from '../../src/index.js';
import { connectWebSocket } from '../../src/testing/index.js';
import { ADAPTERS, startApp, type AdapterName } from '../support/app.js';

@Injectable()
class InfoHandler extends WebSocketHandler {
  override onOpen() {
    this.send(
      JSON.stringify({
        query: Object.fromEntries(this.query),
        protocol: this.protocol,
        token: this.request.headers['x-token'],
      }),
    );
  }
}

@Injectable()
class ChattyHandler extends WebSocketHandler {
  override onOpen() {
    this.send('one');
    this.send(Buffer.from([0xff, 0x00, 0x7f]));
    this.send(JSON.stringify({ type: 'joined', n: 3 }));
  }
}

@Injectable()
class FailingHandler extends WebSocketHandler {
  override onMessage(data: WebSocketMessage) {
    this.send(`before ${data as string}`);
    throw new Error('boom');
  }
}

@Injectable()
class Silent extends WebSocketHandler {}

class DenyAll implements CanActivate {
  canActivate() {
    return false;
  }
}

@Controller()
class TestController {
  @WebSocketRoute('echo', EchoHandler)
  echo() {}
  @WebSocketRoute('info', InfoHandler, { protocols: ['chat.v1'] })
  info() {}
  @WebSocketRoute('chatty', ChattyHandler)
  chatty() {}
  @WebSocketRoute('failing', FailingHandler)
  failing() {}
  @WebSocketRoute('silent', Silent)
  silent() {}
  @UseGuards(DenyAll)
  @WebSocketRoute('private', EchoHandler)
  private() {}
}

@Module({ imports: [WsModule.forRoot({ closeTimeoutMs: 500 })], controllers: [TestController] })
class AppModule {}

/** An app made the way a user's spec makes it: created, not listening. */
async function createApp(adapter: AdapterName): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  return adapter === 'fastify'
    ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
    : moduleRef.createNestApplication({ logger: false });
}

const isJoin = (message: string | Buffer) => JSON.parse(message as string).type === 'joined';

const URL_PATTERN = 'ws://127\\.0\\.0\\.1:\\d+';

describe.each(ADAPTERS)('testing: connectWebSocket (%s)', (adapter) => {
  let app: INestApplication;
  afterEach(async () => {
    await app?.close();
  });

  it('makes an app listen on 127.0.0.1 port 0 and sends query, protocols and headers', async () => {
    app = await createApp(adapter);
    const client = await connectWebSocket(app, '/info?room=a', {
      protocols: ['chat.v1'],
      headers: { 'x-token': 'secret' },
    });
    expect(client.url).toMatch(new RegExp(`^${URL_PATTERN}/info\\?room=a$`));
    expect(client.protocol).toBe('chat.v1');
    expect(JSON.parse((await client.nextMessage()) as string)).toEqual({
      query: { room: 'a' },
      protocol: 'chat.v1',
      token: 'secret',
    });
  });

  it('connects to an app that already listens, and to a URL', async () => {
    const started = await startApp({ imports: [AppModule] }, undefined, adapter);
    app = started.app;
    const first = await connectWebSocket(app, 'echo');
    expect(first.url).toBe(started.url('/echo'));
    const second = await connectWebSocket(started.url('/echo'));
    second.send('by url');
    expect(await second.nextMessage()).toBe('by url');
    await second.close();
  });

  it('receives text as string and binary as Buffer, and keeps every message in order', async () => {
    app = await createApp(adapter);
    const client = await connectWebSocket(app, '/chatty');
    // Sent by onOpen before anyone waited: nothing is lost.
    expect(await client.nextMessage()).toBe('one');
    const binary = await client.nextMessage();
    expect(Buffer.isBuffer(binary)).toBe(true);
    expect([...(binary as Buffer)]).toEqual([0xff, 0x00, 0x7f]);
    expect(await client.nextMessage()).toBe('{"type":"joined","n":3}');
    expect(client.messages).toHaveLength(3);
    const echo = await connectWebSocket(app, '/echo');
    echo.send(Buffer.from([1, 2, 3]));
    echo.send('text');
    echo.send({ json: true });
    expect(await echo.nextMessage()).toEqual(Buffer.from([1, 2, 3]));
    expect(await echo.nextMessage()).toBe('text');
    expect(await echo.nextMessage()).toBe('{"json":true}');
  });

  it('expectMessage matches a string, a Buffer, a RegExp, a JSON value or a predicate, skipping others', async () => {
    app = await createApp(adapter);
    const client = await connectWebSocket(app, '/chatty');
    expect(await client.expectMessage({ type: 'joined', n: 3 })).toBe('{"type":"joined","n":3}');
    expect(client.messages).toHaveLength(3); // the skipped ones stay recorded
    const again = await connectWebSocket(app, '/chatty');
    expect(await again.expectMessage(Buffer.from([0xff, 0x00, 0x7f]))).toBeInstanceOf(Buffer);
    expect(await again.expectMessage(/joined/)).toContain('joined');
    const third = await connectWebSocket(app, '/chatty');
    expect(await third.expectMessage(isJoin)).toContain('"n":3');
    const fourth = await connectWebSocket(app, '/chatty');
    expect(await fourth.expectMessage('one')).toBe('one');
  });

  it('times out with what was awaited and what arrived instead', async () => {
    app = await createApp(adapter);
    const silent = await connectWebSocket(app, '/silent', { timeoutMs: 100 });
    await expect(silent.nextMessage()).rejects.toThrow(
      new RegExp(
        `^Timed out after 100 ms on ${URL_PATTERN}/silent awaiting a message; received instead: nothing$`,
      ),
    );
    await expect(silent.closed).rejects.toThrow(
      /Timed out after 100 ms on .*\/silent awaiting the connection to close; it is still open/,
    );
    const chatty = await connectWebSocket(app, '/chatty');
    await expect(chatty.expectMessage('two', { timeoutMs: 150 })).rejects.toThrow(
      /^Timed out after 150 ms on .*\/chatty awaiting the message "two"; received instead: "one", <binary ff 00 7f \(3 bytes\)>, "\{\\"type\\":\\"joined\\",\\"n\\":3\}"$/,
    );
  });

  it('fails a wait at once when the connection closes, naming the close', async () => {
    app = await createApp(adapter);
    const client = await connectWebSocket(app, '/failing', { timeoutMs: 10_000 });
    const started = Date.now();
    const waiting = client.expectMessage('never');
    client.send('x');
    await expect(waiting).rejects.toThrow(
      /^The connection to .*\/failing closed with 1011 .*while awaiting the message "never"; received instead: "before x"$/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await client.closed).toEqual({ code: 1011, reason: expect.any(String) });
    await expect(client.nextMessage()).rejects.toThrow(/closed with 1011/);
    expect(() => client.send('late')).toThrow(/^Cannot send to .*\/failing: closed with 1011/);
  });

  it('closes with a code and reason and resolves with what the client saw', async () => {
    app = await createApp(adapter);
    const client = await connectWebSocket(app, '/echo');
    expect(await client.close(4000, 'bye')).toEqual({ code: 4000, reason: 'bye' });
    expect(await client.closed).toEqual({ code: 4000, reason: 'bye' });
    expect(client.isOpen).toBe(false);
  });

  it('expectRejected resolves with status, headers and body of a 404 and a 403', async () => {
    app = await createApp(adapter);
    const missing = await connectWebSocket(app, '/nowhere');
    const notFound = await missing.expectRejected(404);
    expect(notFound.status).toBe(404);
    expect(notFound.headers['content-type']).toMatch(/json/);
    expect(notFound.body.length).toBeGreaterThan(0);
    const denied = await connectWebSocket(app, '/private');
    const forbidden = await denied.expectRejected(403);
    expect(forbidden.body).toMatch(/forbidden/i);
    await expect(denied.expectRejected(401)).rejects.toThrow(
      /^Expected the handshake of .*\/private to be refused with 401, but it was refused with 403 Forbidden: /,
    );
    expect(() => denied.send('x')).toThrow(/handshake was refused with 403/);
    await expect(denied.nextMessage()).rejects.toThrow(/handshake was refused with 403/);
  });

  it('expectRejected fails, and terminates the client, when the handshake was accepted', async () => {
    app = await createApp(adapter);
    const client = await connectWebSocket(app, '/echo');
    await expect(client.expectRejected(403)).rejects.toThrow(
      /^Expected the handshake of .*\/echo to be refused with 403, but it was accepted/,
    );
    expect((await client.closed).code).toBe(1006);
  });

  it("closes its clients when the app closes: WsModule's 1001 still arrives, others are terminated", async () => {
    app = await createApp(adapter);
    // A route the app's server serves outside WsModule, which never closes its sockets.
    const foreign = new WebSocketServer({ noServer: true });
    await app.init();
    app.getHttpServer().on('upgrade', (request: any, socket: any, head: Buffer) => {
      if (request.url === '/foreign') foreign.handleUpgrade(request, socket, head, () => {});
    });
    const routed = await connectWebSocket(app, '/echo');
    const unrouted = await connectWebSocket(app, '/foreign');
    const routedClosed = routed.closed.catch((error: Error) => error);
    await app.close();
    expect(await routedClosed).toMatchObject({ code: 1001 });
    expect((await unrouted.closed).code).toBe(1006);
    expect(routed.isOpen || unrouted.isOpen).toBe(false);
  });
});

describe('testing: connectWebSocket errors', () => {
  it('rejects with the URL and the cause when nothing listens', async () => {
    const server = await listen(createServer());
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    await expect(connectWebSocket(`ws://127.0.0.1:${port}/x`)).rejects.toThrow(
      `Could not connect to ws://127.0.0.1:${port}/x: connect ECONNREFUSED`,
    );
  });

  it('rejects after the timeout when the handshake is never answered', async () => {
    const sockets: import('node:net').Socket[] = [];
    const server = await listen(createServer((socket) => sockets.push(socket)));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/mute`;
    try {
      await expect(connectWebSocket(url, '', { timeoutMs: 100 })).rejects.toThrow(
        `Timed out after 100 ms awaiting the handshake of ${url}`,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

function listen(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
