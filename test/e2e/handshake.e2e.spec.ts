import { Controller, Get, Injectable, Logger, Module, type INestApplication } from '@nestjs/common';
import { connect as netConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
  EchoHandler,
  WebSocketHandler,
  WebSocketRoute,
  WsModule,
  type WebSocketMessage,
} from '../../src/index.js';
import {
  foreignOriginReason,
  notGetRejection,
  originNotAllowedReason,
} from '../../src/handshake.messages.js';
import { ADAPTERS, closed, connect, nextMessage, startApp, until } from '../support/app.js';
import {
  openRaw,
  openWithGreeting as openClientWithGreeting,
  refused,
} from '../support/handshake.js';
import { handshakeRequest, rawRequest, VALID_KEY } from '../support/raw-http.js';

/** Tells the client which subprotocol it got, then echoes. */
@Injectable()
class ProtocolHandler extends WebSocketHandler {
  override onOpen() {
    this.send(`protocol=${this.protocol}`);
  }
  override onMessage(data: WebSocketMessage) {
    this.send(data);
  }
}

const SMALL = 'small';
const LARGE = 'abcdefgh'.repeat(512); // 4 KiB, compresses well

/** Sends a message under and one over the default 1 KiB threshold, then echoes. */
@Injectable()
class CompressionProbe extends WebSocketHandler {
  override onOpen() {
    this.send(SMALL);
    this.send(LARGE);
  }
  override onMessage(data: WebSocketMessage) {
    this.send(data);
  }
}

@Injectable()
class ExplodingHandler extends WebSocketHandler {
  constructor() {
    super();
    throw new Error('constructor failed');
  }
}

@Controller()
class HandshakeController {
  @WebSocketRoute('exploding', ExplodingHandler)
  exploding() {}

  @WebSocketRoute('echo', EchoHandler)
  echo() {}

  @WebSocketRoute('rooms/:room', EchoHandler)
  room() {}

  @WebSocketRoute('origins/list', EchoHandler, {
    allowedOrigins: ['https://app.example.com', 'http://localhost:4200'],
  })
  originList() {}

  @WebSocketRoute('origins/fn', EchoHandler, {
    allowedOrigins: (origin, request) =>
      origin !== undefined &&
      origin.endsWith('.example.com') &&
      request.headers['x-tenant'] !== 'blocked',
  })
  originFunction() {}

  @WebSocketRoute('chat', ProtocolHandler, { protocols: ['chat.v2', 'chat.v1'] })
  chat() {}

  @WebSocketRoute('chat/strict', ProtocolHandler, { protocols: ['chat.v1'], requireProtocol: true })
  chatStrict() {}

  @WebSocketRoute('chat/select', ProtocolHandler, {
    protocols: ['a', 'b'],
    // The handler's own rule: the client's last offer, whatever the route lists.
    selectProtocol: (offered) => offered.at(-1) ?? false,
  })
  chatSelect() {}

  @WebSocketRoute('deflate', CompressionProbe, { perMessageDeflate: true })
  deflate() {}

  @WebSocketRoute('deflate/all', CompressionProbe, { perMessageDeflate: { threshold: 0 } })
  deflateAll() {}

  @WebSocketRoute('plain', CompressionProbe)
  plain() {}

  @WebSocketRoute('limited', EchoHandler, { maxConnections: 2 })
  limited() {}

  @WebSocketRoute('shared', EchoHandler)
  sharedWs() {}

  @Get('shared')
  sharedHttp() {
    return { servedBy: 'http route' };
  }
}

@Module({ imports: [WsModule.forRoot()], controllers: [HandshakeController] })
class HandshakeModule {}

/** Connects, retrying while the server has not yet freed a place (it frees it when it sees the close). */
async function openEventually(address: string): Promise<WebSocket> {
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      return await connect(address);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const jsonBody = (response: { body: string }) => JSON.parse(response.body) as object;

const valid = (path: string, overrides: Record<string, string | null> = {}, line?: string) =>
  handshakeRequest(path, overrides, line);

describe.each(ADAPTERS)('handshake (%s)', (adapter) => {
  let app: INestApplication;
  let url: (path: string) => string;
  let port: number;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    vi.restoreAllMocks();
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
  });

  const boot = async (module: unknown = HandshakeModule) =>
    ({ app, url, port } = await startApp(
      { imports: [module as typeof HandshakeModule] },
      undefined,
      adapter,
    ));

  const open = async (
    path: string,
    protocols?: string | string[],
    headers?: Record<string, string>,
  ) => {
    const client = await connect(url(path), protocols, headers ? { headers } : undefined);
    clients.push(client);
    return client;
  };

  /** Opens a client and returns it with the first message (listened to before the open). */
  const openWithGreeting = async (path: string, protocols?: string[]) => {
    const opened = await openClientWithGreeting(url(path), protocols);
    clients.push(opened.client);
    return opened;
  };

  /** The server refused and closed, and a normal connection still works right after. */
  const expectRefusedThenServes = async (
    response: { status: number; raw?: string; closedByServer: boolean },
    status: number,
  ) => {
    expect(response.status).toBe(status);
    if (response.raw !== undefined) expect(response.raw).not.toMatch(/^HTTP\/1\.1 101/m);
    expect(response.closedByServer).toBe(true);
    const client = await open('/echo');
    client.send('still serving');
    expect(await nextMessage(client)).toBe('still serving');
  };

  describe('RFC 6455 4.2.1 checks (raw TCP)', () => {
    it('accepts a valid handshake with tokens in any case and in lists', async () => {
      await boot();
      const connection = await openRaw(
        port,
        valid('/echo', { Upgrade: 'WebSocket', Connection: 'keep-alive, Upgrade' }),
      );
      connection.socket.destroy();
      expect(connection.response.status).toBe(101);
      expect(connection.response.headers['sec-websocket-accept']).toBe(
        's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      );
    });

    it('answers 405 with Allow: GET to another method', async () => {
      await boot();
      const response = await rawRequest(port, valid('/echo', {}, 'POST /echo HTTP/1.1'));
      expect(response.headers.allow).toBe('GET');
      expect(jsonBody(response)).toEqual({
        statusCode: 405,
        message: notGetRejection().message,
        error: 'Method Not Allowed',
      });
      await expectRefusedThenServes(response, 405);
    });

    it('answers 400 to HTTP/1.0', async () => {
      await boot();
      const response = await rawRequest(port, valid('/echo', {}, 'GET /echo HTTP/1.0'));
      expect(jsonBody(response)).toMatchObject({ statusCode: 400 });
      expect(response.body).toMatch(/HTTP\/1\.1/);
      await expectRefusedThenServes(response, 400);
    });

    it('answers 400 without a Host header', async () => {
      await boot();
      const response = await rawRequest(port, valid('/echo', { Host: null }));
      expect(response.body).toMatch(/Host/);
      await expectRefusedThenServes(response, 400);
    });

    it('answers 400 when Upgrade lacks the websocket token', async () => {
      await boot();
      const response = await rawRequest(port, valid('/echo', { Upgrade: 'h2c' }));
      expect(response.body).toMatch(/Upgrade/);
      await expectRefusedThenServes(response, 400);
    });

    it('answers 400, with its own reason, to an Upgrade list rather than the single websocket token', async () => {
      await boot();
      const response = await rawRequest(port, valid('/echo', { Upgrade: 'h2c, websocket' }));
      expect(response.body).toMatch(/Upgrade header must be/);
      await expectRefusedThenServes(response, 400);
    });

    it('answers 400 when Connection lacks the upgrade token', async () => {
      await boot();
      const response = await rawRequest(port, valid('/echo', { Connection: 'keep-alive' }));
      expect(response.body).toMatch(/Connection/);
      await expectRefusedThenServes(response, 400);
    });

    it('answers 426 with Upgrade: websocket to a plain GET of a WebSocket path', async () => {
      await boot();
      for (const path of ['/echo', '/rooms/a?x=1']) {
        const response = await rawRequest(
          port,
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
        );
        expect(response.status).toBe(426);
        expect(response.headers.upgrade).toBe('websocket');
        expect(jsonBody(response)).toMatchObject({ statusCode: 426 });
        await expectRefusedThenServes(response, 426);
      }
    });

    it('leaves a plain GET to the HTTP route of the same path, which still upgrades', async () => {
      await boot();
      const response = await fetch(`http://127.0.0.1:${port}/shared`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ servedBy: 'http route' });
      const client = await open('/shared');
      client.send('ws too');
      expect(await nextMessage(client)).toBe('ws too');
    });

    it('answers 426 with Sec-WebSocket-Version: 13 to another or no version', async () => {
      await boot();
      for (const version of ['8', '14', null]) {
        const response = await rawRequest(
          port,
          valid('/echo', { 'Sec-WebSocket-Version': version }),
        );
        expect(response.headers['sec-websocket-version']).toBe('13');
        await expectRefusedThenServes(response, 426);
      }
    });

    it('answers 400 to a missing key or one that is not the base64 of 16 bytes', async () => {
      await boot();
      const keys = [
        null,
        '',
        'not base64 at all!!!!!==',
        Buffer.alloc(15, 1).toString('base64'),
        Buffer.alloc(17, 1).toString('base64'),
        VALID_KEY.slice(0, -2),
      ];
      for (const key of keys) {
        const response = await rawRequest(port, valid('/echo', { 'Sec-WebSocket-Key': key }));
        expect(response.body).toMatch(/Sec-WebSocket-Key/);
        await expectRefusedThenServes(response, 400);
      }
    });

    it('answers 400 to a malformed Sec-WebSocket-Protocol or Sec-WebSocket-Extensions', async () => {
      await boot();
      for (const [header, value] of [
        ['Sec-WebSocket-Protocol', 'chat.v1,,chat.v2'],
        ['Sec-WebSocket-Protocol', 'chat v1'],
        ['Sec-WebSocket-Protocol', 'chat.v1, chat.v1'],
        ['Sec-WebSocket-Extensions', 'permessage-deflate; ='],
        ['Sec-WebSocket-Extensions', ',permessage-deflate'],
      ]) {
        for (const path of ['/echo', '/chat']) {
          const response = await rawRequest(port, valid(path, { [header]: value }));
          expect(response.body).toContain(header);
          await expectRefusedThenServes(response, 400);
        }
      }
    });
  });

  it('closes with 1011 and logs when the handler cannot be created, and goes on', async () => {
    await boot();
    const logged = vi.spyOn(Logger.prototype, 'error');
    const client = new WebSocket(url('/exploding'));
    clients.push(client);
    expect((await closed(client)).code).toBe(1011);
    expect(String(logged.mock.calls[0]?.[1])).toContain('constructor failed');
    const echo = await open('/echo');
    echo.send('still serving');
    expect(await nextMessage(echo)).toBe('still serving');
  });

  it('drops a bad frame on a socket whose handler could not be created: the process goes on', async () => {
    await boot();
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      // The handshake and an unmasked frame (RFC 6455 5.1: a client masks every frame) in one
      // write: `ws` reads the frame right after the 101, while the 1011 close is under way.
      const socket = netConnect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.resume();
      const closedSocket = new Promise((resolve) => socket.once('close', resolve));
      socket.write(
        Buffer.concat([
          Buffer.from(handshakeRequest('/exploding')),
          Buffer.from([0x81, 0x02, 0x68, 0x69]),
        ]),
      );
      await closedSocket;
      await sleep(50);
    } finally {
      process.removeListener('uncaughtException', record);
    }
    expect(uncaught).toEqual([]);
    const echo = await open('/echo');
    echo.send('still serving');
    expect(await nextMessage(echo)).toBe('still serving');
  });

  describe('allowedOrigins', () => {
    it('lets listed origins and non-browser clients in, answers 403 to others', async () => {
      await boot();
      await open('/origins/list', undefined, { Origin: 'https://app.example.com' });
      await open('/origins/list', undefined, { Origin: 'http://localhost:4200' });
      await open('/origins/list'); // no Origin: not a browser
      for (const origin of ['https://evil.example', 'https://app.example.com.evil', 'null']) {
        const refusal = await refused(url('/origins/list'), undefined, {
          headers: { Origin: origin },
        });
        expect(JSON.parse(refusal.body)).toEqual({
          statusCode: 403,
          message: originNotAllowedReason(origin),
          error: 'Forbidden',
        });
        await expectRefusedThenServes(refusal, 403);
      }
    });

    it('asks a function with the origin and the request', async () => {
      await boot();
      const allowed = await open('/origins/fn', undefined, { Origin: 'https://a.example.com' });
      expect(allowed.readyState).toBe(WebSocket.OPEN);
      const refusedHeaders: Record<string, string>[] = [
        { Origin: 'https://a.example.com', 'X-Tenant': 'blocked' },
        { Origin: 'https://example.org' },
        {},
      ];
      for (const headers of refusedHeaders) {
        const refusal = await refused(url('/origins/fn'), undefined, { headers });
        await expectRefusedThenServes(refusal, 403);
      }
    });

    // Changed in issue 13: the default was "any origin"; it is now the request's own host.
    it("lets the request's own host in by default, on any port, and refuses other hosts", async () => {
      await boot();
      const sameHost = await open('/echo', undefined, { Origin: 'http://127.0.0.1:4200' });
      expect(sameHost.readyState).toBe(WebSocket.OPEN);
      const refusal = await refused(url('/echo'), undefined, {
        headers: { Origin: 'https://anywhere.example' },
      });
      expect(JSON.parse(refusal.body)).toMatchObject({
        statusCode: 403,
        message: foreignOriginReason('https://anywhere.example', '127.0.0.1'),
      });
      await expectRefusedThenServes(refusal, 403);
    });
  });

  describe('subprotocols', () => {
    it("picks the first of the client's offers the route speaks, and answers exactly one", async () => {
      await boot();
      const client = new WebSocket(url('/chat'), ['x.v9', 'chat.v1', 'chat.v2']);
      clients.push(client);
      const header = new Promise<string | string[] | undefined>((resolve) =>
        client.once('upgrade', (response) => resolve(response.headers['sec-websocket-protocol'])),
      );
      expect(await nextMessage(client)).toBe('protocol=chat.v1');
      expect(await header).toBe('chat.v1');
      expect(client.protocol).toBe('chat.v1');
    });

    it('accepts without a subprotocol when none matches and none is required', async () => {
      await boot();
      const connection = await openRaw(
        port,
        valid('/chat', { 'Sec-WebSocket-Protocol': 'other.v1, other.v2' }),
      );
      connection.socket.destroy();
      expect(connection.response.status).toBe(101);
      expect(connection.response.headers['sec-websocket-protocol']).toBeUndefined();
      expect((await openWithGreeting('/chat')).greeting).toBe('protocol=');
    });

    it('answers 400 when requireProtocol is set and no offer matches', async () => {
      await boot();
      for (const offers of [undefined, ['chat.v2', 'other']]) {
        const refusal = await refused(url('/chat/strict'), offers);
        expect(JSON.parse(refusal.body)).toMatchObject({ statusCode: 400 });
        expect(refusal.body).toMatch(/subprotocol/);
        await expectRefusedThenServes(refusal, 400);
      }
      const { greeting } = await openWithGreeting('/chat/strict', ['chat.v2', 'chat.v1']);
      expect(greeting).toBe('protocol=chat.v1');
    });

    it('lets selectProtocol override the choice', async () => {
      await boot();
      const { client, greeting } = await openWithGreeting('/chat/select', ['b', 'a', 'custom']);
      expect(client.protocol).toBe('custom');
      expect(greeting).toBe('protocol=custom');
    });
  });

  describe('perMessageDeflate', () => {
    it('is negotiated only on routes that enable it', async () => {
      await boot();
      const compressed = await open('/deflate');
      const plain = await open('/plain');
      expect(compressed.extensions).toContain('permessage-deflate');
      expect(plain.extensions).toBe('');
    });

    it('round-trips compressed messages', async () => {
      await boot();
      const client = new WebSocket(url('/deflate'));
      clients.push(client);
      const received: string[] = [];
      client.on('message', (data) => received.push(data.toString()));
      await until(() => received.length === 2);
      expect(client.extensions).toContain('permessage-deflate');
      client.send(LARGE + 'back');
      await until(() => received.length === 3);
      expect(received).toEqual([SMALL, LARGE, LARGE + 'back']);
    });

    it('compresses only messages over the threshold (1 KiB for `true`)', async () => {
      await boot();
      const offer = { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' };
      const deflate = await openRaw(port, valid('/deflate', offer));
      const all = await openRaw(port, valid('/deflate/all', offer));
      const plain = await openRaw(port, valid('/plain', offer));
      await until(() => deflate.frames.length === 2 && all.frames.length === 2);
      await until(() => plain.frames.length === 2);
      for (const connection of [deflate, all, plain]) connection.socket.destroy();

      expect(deflate.response.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
      expect(deflate.frames.map((frame) => frame.rsv1)).toEqual([false, true]);
      expect(deflate.frames[1].payload.length).toBeLessThan(LARGE.length / 10);
      expect(all.frames.map((frame) => frame.rsv1)).toEqual([true, true]);
      expect(plain.response.headers['sec-websocket-extensions']).toBeUndefined();
      expect(plain.frames.map((frame) => frame.rsv1)).toEqual([false, false]);
      expect(plain.frames[1].payload.toString()).toBe(LARGE);
    });
  });

  describe('maxConnections', () => {
    it('answers 503 with Retry-After past the route limit, other routes unaffected', async () => {
      await boot();
      const first = await open('/limited');
      await open('/limited');
      const refusal = await refused(url('/limited'));
      expect(refusal.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(refusal.body)).toMatchObject({ statusCode: 503 });
      await expectRefusedThenServes(refusal, 503);
      const done = closed(first);
      first.close();
      await done;
      // The freed place is available again once the server saw the close.
      clients.push(await openEventually(url('/limited')));
    });
  });
});

@Controller()
class OverrideController {
  @WebSocketRoute('inherits', CompressionProbe)
  inherits() {}

  @WebSocketRoute('overrides', CompressionProbe, { perMessageDeflate: false, protocols: ['r.v1'] })
  overrides() {}

  @WebSocketRoute('other', EchoHandler)
  other() {}
}

@Module({
  imports: [
    WsModule.forRoot({
      perMessageDeflate: true,
      protocols: ['m.v1'],
      allowedOrigins: ['https://app.example.com'],
      maxTotalConnections: 3,
    }),
  ],
  controllers: [OverrideController],
})
class ModuleOptionsModule {}

describe.each(ADAPTERS)('handshake: module options (%s)', (adapter) => {
  let app: INestApplication;
  let url: (path: string) => string;
  const clients: WebSocket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await app?.close();
  });

  const open = async (path: string, protocols?: string[], origin?: string) => {
    const client = await connect(
      url(path),
      protocols,
      origin ? { headers: { Origin: origin } } : undefined,
    );
    clients.push(client);
    return client;
  };

  it('are the defaults of every route; route options override them', async () => {
    ({ app, url } = await startApp({ imports: [ModuleOptionsModule] }, undefined, adapter));
    const inherits = await open('/inherits', ['r.v1', 'm.v1']);
    expect(inherits.extensions).toContain('permessage-deflate');
    expect(inherits.protocol).toBe('m.v1');
    const overrides = await open('/overrides', ['m.v1', 'r.v1']);
    expect(overrides.extensions).toBe('');
    expect(overrides.protocol).toBe('r.v1');
    const refusal = await refused(url('/other'), undefined, {
      headers: { Origin: 'https://evil.example' },
    });
    expect(refusal.status).toBe(403);
  });

  it('maxTotalConnections answers 503 with Retry-After past the module-wide limit', async () => {
    ({ app, url } = await startApp({ imports: [ModuleOptionsModule] }, undefined, adapter));
    const first = await open('/inherits');
    await open('/overrides');
    await open('/other');
    for (const path of ['/inherits', '/other']) {
      const refusal = await refused(url(path));
      expect(refusal.status).toBe(503);
      expect(refusal.headers['retry-after']).toMatch(/^\d+$/);
      expect(refusal.closedByServer).toBe(true);
    }
    const done = closed(first);
    first.close();
    await done;
    clients.push(await openEventually(url('/other')));
  });
});
