import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { connect as netConnect, type Socket } from 'node:net';
import { setImmediate as nextLoop } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  WebSocketHandler,
  WebSocketRegistry,
  WebSocketRoute,
  WsModule,
  type WebSocketMessage,
} from '../../src/index.js';
import { ADAPTERS, connect, messages, startApp, until } from '../support/app.js';
import { handshakeRequest, rawRequest } from '../support/raw-http.js';

/** Receives and counts; sends only what the test tells it to. */
@Injectable()
class QuietHandler extends WebSocketHandler {
  override onMessage(_data: WebSocketMessage) {}
}

/** Counts `onDrain()`, which must follow broadcasts as it follows `send()`. */
@Injectable()
class DrainHandler extends WebSocketHandler {
  drains = 0;
  override onDrain() {
    this.drains++;
  }
}

@Controller()
class FanController {
  @WebSocketRoute('drain', DrainHandler)
  drain() {}

  @WebSocketRoute('fan', QuietHandler)
  fan() {}

  @WebSocketRoute('other', QuietHandler)
  other() {}

  @WebSocketRoute('deflate', QuietHandler, { perMessageDeflate: { threshold: 0 } })
  deflate() {}

  @WebSocketRoute('slow-close', QuietHandler, {
    maxBackpressure: 256 * 1024,
    backpressure: 'close',
    closeTimeoutMs: 300,
  })
  slowClose() {}

  @WebSocketRoute('slow-drop', QuietHandler, { maxBackpressure: 256 * 1024, backpressure: 'drop' })
  slowDrop() {}
}

@Module({ imports: [WsModule.forRoot({ heartbeatMs: 0 })], controllers: [FanController] })
class AppModule {}

/** A server-to-client frame as RFC 6455 5.2 lays it out: FIN, opcode, unmasked length, payload. */
function expectedFrame(opcode: 1 | 2, payload: Buffer): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) header = Buffer.from([0x80 | opcode, length]);
  else if (length < 65536) header = Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

/** A WebSocket client on a bare TCP socket: the bytes the server wrote after its 101, unparsed. */
interface RawClient {
  socket: Socket;
  received: () => Buffer;
}

function rawClient(port: number, path: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let headEnd = -1;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (headEnd !== -1) return;
      headEnd = buffer.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const head = buffer.subarray(0, headEnd).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(head));
      else resolve({ socket, received: () => buffer.subarray(headEnd + 4) });
    });
    socket.write(handshakeRequest(path));
  });
}

describe.each(ADAPTERS)('registry (%s)', (adapter) => {
  let app: INestApplication;
  let port: number;
  let url: (path: string) => string;
  let registry: WebSocketRegistry;
  const clients: WebSocket[] = [];
  const sockets: Socket[] = [];

  async function start(): Promise<void> {
    ({ app, port, url } = await startApp({ imports: [AppModule] }, undefined, adapter));
    registry = app.get(WebSocketRegistry);
  }

  async function connectMany(path: string, count: number, deflate = false): Promise<WebSocket[]> {
    const opened = await Promise.all(
      Array.from({ length: count }, () =>
        connect(url(path), undefined, { perMessageDeflate: deflate }),
      ),
    );
    clients.push(...opened);
    return opened;
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    for (const socket of sockets.splice(0)) socket.destroy();
    await app?.close();
  });

  it('writes one identical, valid frame per message to every client: text as text, binary as binary', async () => {
    await start();
    const wsClients = await connectMany('/fan', 120);
    const raw = await Promise.all([rawClient(port, '/fan'), rawClient(port, '/fan')]);
    sockets.push(...raw.map((client) => client.socket));
    await until(() => registry.byPath('/fan').length === 122);
    const sent: WebSocketMessage[] = [
      'héllo ✓',
      Buffer.from(Array.from({ length: 200 }, (_, i) => i)),
      'x'.repeat(70_000),
      '',
      Buffer.alloc(0),
    ];
    const arrivals = wsClients.map((client) => messages(client, sent.length));
    for (const data of sent) expect(registry.broadcast(data)).toBe(122);
    for (const received of await Promise.all(arrivals)) expect(received).toEqual(sent);
    const expected = Buffer.concat(
      sent.map((data) =>
        typeof data === 'string'
          ? expectedFrame(1, Buffer.from(data))
          : expectedFrame(2, data as Buffer),
      ),
    );
    await until(() => raw.every((client) => client.received().length >= expected.length));
    for (const client of raw) expect(client.received().equals(expected)).toBe(true);
  });

  it('broadcasts to one route with `path`, and leaves out `except`', async () => {
    await start();
    const [fanA] = await connectMany('/fan', 1);
    await until(() => registry.size === 1);
    const [handlerA] = registry.byPath('/fan');
    const [fanB] = await connectMany('/fan', 1);
    const [other] = await connectMany('/other', 1);
    await until(() => registry.size === 3);
    const handlerB = registry.byPath('/fan').find((handler) => handler !== handlerA);
    const gotB: unknown[] = [];
    fanB.on('message', (data: Buffer) => gotB.push(data.toString()));
    const gotOther: unknown[] = [];
    other.on('message', (data: Buffer) => gotOther.push(data.toString()));
    const arrived = messages(fanA, 1);
    expect(registry.broadcast('fan only', { path: '/fan', except: handlerB })).toBe(1);
    expect(await arrived).toEqual(['fan only']);
    expect(registry.broadcast('everyone else', { except: handlerA })).toBe(2);
    await until(() => gotOther.length === 1 && gotB.length === 1);
    expect(gotOther).toEqual(['everyone else']);
    expect(gotB).toEqual(['everyone else']);
    expect(registry.broadcast('nobody', { path: '/nowhere' })).toBe(0);
  });

  it('gives permessage-deflate clients correctly compressed messages next to plain clients', async () => {
    await start();
    const deflated = await connectMany('/deflate', 5, true);
    const plain = await connectMany('/deflate', 5, false);
    await until(() => registry.size === 10);
    for (const client of deflated) expect(client.extensions).toContain('permessage-deflate');
    const text = 'compress me '.repeat(1000);
    const binary = Buffer.alloc(5000, 'b');
    const arrivals = [...deflated, ...plain].map((client) => messages(client, 2));
    const bytesBefore = deflated.map(bytesRead);
    registry.broadcast(text);
    registry.broadcast(binary);
    for (const received of await Promise.all(arrivals)) expect(received).toEqual([text, binary]);
    // Compressed on the wire: far fewer bytes than the 17 KB sent.
    deflated.forEach((client, i) => expect(bytesRead(client) - bytesBefore[i]).toBeLessThan(2000));
  });

  it('keeps broadcasts in order with what handlers send around them, deflating or not', async () => {
    await start();
    const deflated = await connectMany('/deflate', 3, true);
    const plain = await connectMany('/deflate', 3, false);
    await until(() => registry.size === 6);
    const all = [...deflated, ...plain];
    const arrivals = all.map((client) => messages(client, 4));
    const handlers = [...registry];
    const big = 'y'.repeat(20_000);
    for (const handler of handlers) handler.send('before');
    registry.broadcast('broadcast');
    for (const handler of handlers) handler.send(big);
    registry.broadcast(Buffer.from('after'));
    for (const received of await Promise.all(arrivals)) {
      expect(received).toEqual(['before', 'broadcast', big, Buffer.from('after')]);
    }
  });

  it.each([
    ['close', '/slow-close'],
    ['drop', '/slow-drop'],
  ] as const)(
    'applies the %s policy to a reader that stalls, while a fast reader gets every message',
    async (policy, path) => {
      await start();
      const stalled = await rawClient(port, path);
      sockets.push(stalled.socket);
      stalled.socket.pause();
      await until(() => registry.size === 1);
      const [stalledHandler] = registry.byPath(path);
      const [fast] = await connectMany(path, 1);
      await until(() => registry.size === 2);
      let received = 0;
      fast.on('message', () => received++);
      const chunk = Buffer.alloc(32 * 1024, 1);
      let sent = 0;
      while (registry.stats().routes[path].dropped === 0 && sent < 4000) {
        registry.broadcast(chunk, { path });
        sent++;
        await nextLoop();
      }
      expect(registry.stats().routes[path].dropped).toBeGreaterThan(0);
      await until(() => received === sent, 10_000, 'the fast reader to get every message');
      expect(fast.readyState).toBe(WebSocket.OPEN);
      // 'close' ends the stalled connection (1008, then terminated after closeTimeoutMs); 'drop' keeps it.
      const stillOpen = policy === 'drop';
      await until(() => (registry.get(stalledHandler.id) !== undefined) === stillOpen, 5000);
      expect(stalledHandler.isOpen).toBe(stillOpen);
    },
  );

  it('calls onDrain once the queue broadcasts left behind a paused reader has been written, as after send()', async () => {
    await start();
    const [client] = await connectMany('/drain', 1);
    await until(() => registry.size === 1);
    const handler = [...registry][0] as DrainHandler;
    const socket = (client as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    // Broadcast until the kernel's buffers are full and the rest waits in the server's queue.
    while (handler.bufferedAmount === 0) {
      if (++sent > 800) throw new Error('every broadcast went straight out');
      registry.broadcast(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(handler.drains).toBe(0);
    const arrivals = messages(client, sent, 10_000);
    socket.resume();
    await until(() => handler.drains === 1, 5000, 'onDrain after the queue emptied');
    expect((await arrivals).every((message) => message === chunk)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handler.drains).toBe(1);
  });

  it('counts connections, traffic and refused handshakes in stats()', async () => {
    await start();
    const [fan1] = await connectMany('/fan', 2);
    await connectMany('/other', 1);
    await until(() => registry.size === 3);
    fan1.send('one');
    fan1.send(Buffer.from('two!'));
    await until(() => registry.stats().routes['/fan'].messagesIn === 2);
    registry.broadcast('12345', { path: '/fan' });
    const refused = await rawRequest(port, handshakeRequest('/fan', { 'Sec-WebSocket-Key': null }));
    const stats = registry.stats();
    expect(stats.connections).toBe(3);
    expect(stats.routes['/fan']).toMatchObject({
      open: 2,
      messagesIn: 2,
      bytesIn: 7,
      messagesOut: 2,
      bytesOut: 10,
      dropped: 0,
      sentAfterClose: 0,
    });
    expect(stats.routes['/other']).toMatchObject({ open: 1, messagesIn: 0, messagesOut: 0 });
    expect(stats.total).toMatchObject({ open: 3, messagesIn: 2, messagesOut: 2 });
    expect(stats.rejectedHandshakes).toEqual({ [refused.status]: 1 });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(stats.broker).toMatchObject({ name: 'in-process', connected: true });
  });
});

function bytesRead(client: WebSocket): number {
  return (client as unknown as { _socket: Socket })._socket.bytesRead;
}
