import { Controller, Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  InvalidCloseCodeError,
  isSendableCloseCode,
  WebSocketClosedError,
  WebSocketHandler,
  WebSocketRoute,
  WsModule,
} from '../../src/index.js';
import { ADAPTERS, closed, nextMessage, until } from '../support/app.js';
import { sentAfterClose, sleep, useLifecycleApp } from './lifecycle.helpers.js';

const closes = new Map<string, { code: number; reason: string }[]>();

@Injectable()
class ClosingHandler extends WebSocketHandler {
  override onClose(code: number, reason: string) {
    closes.set(this.id, [...(closes.get(this.id) ?? []), { code, reason }]);
  }
}

@Controller()
class ClosingController {
  @WebSocketRoute('closing', ClosingHandler, { sendAfterClose: 'throw' })
  closing() {}

  @WebSocketRoute('closing-quietly', ClosingHandler)
  closingQuietly() {}
}

@Module({ imports: [WsModule.forRoot({ heartbeatMs: 0 })], controllers: [ClosingController] })
class AppModule {}

/** RFC 6455 7.4.1 and 7.4.2, read as: what a server may put in a close frame. */
const SENDABLE = [
  1000,
  1001,
  1003,
  1007,
  1008,
  1009,
  1011,
  1012,
  1013,
  1014,
  ...Array.from({ length: 2000 }, (_, i) => 3000 + i),
];
const NOT_SENDABLE = [
  0,
  -1,
  999,
  1002,
  1004,
  1005,
  1006,
  1010,
  1015,
  1016,
  2000,
  2999,
  5000,
  65535,
  1000.5,
  NaN,
  Infinity,
];

describe('close codes (pure)', () => {
  it('isSendableCloseCode accepts exactly the sendable codes', () => {
    const sendable = new Set(SENDABLE);
    for (let code = -10; code <= 70_000; code++) {
      expect(isSendableCloseCode(code), `code ${code}`).toBe(sendable.has(code));
    }
    for (const code of NOT_SENDABLE) expect(isSendableCloseCode(code)).toBe(false);
  });
});

describe.each(ADAPTERS)('closing (%s)', (adapter) => {
  const server = useLifecycleApp({ imports: [AppModule] }, adapter);

  it('every sendable code, with its reason, reaches the client and onClose', async () => {
    for (let at = 0; at < SENDABLE.length; at += 250) {
      await Promise.all(
        SENDABLE.slice(at, at + 250).map(async (code) => {
          const { client, handler } = await server.open('/closing');
          const clientClosed = closed(client);
          handler.close(code, `bye ${code}`);
          expect(await clientClosed).toEqual({ code, reason: `bye ${code}` });
          await until(() => closes.has(handler.id));
          expect(closes.get(handler.id)).toEqual([{ code, reason: `bye ${code}` }]);
        }),
      );
    }
    // About 2,000 connections opened and closed: a bound for a busy machine, not a speed check.
  }, 60_000);

  it('a code that may not be sent throws InvalidCloseCodeError and leaves the connection open', async () => {
    const { client, handler } = await server.open('/closing');
    for (const code of NOT_SENDABLE) {
      expect(() => handler.close(code), `code ${code}`).toThrow(InvalidCloseCodeError);
      expect(() => handler.close(code)).toThrow(`Invalid WebSocket close code ${code}`);
    }
    expect(handler.isOpen).toBe(true);
    const received = nextMessage(client);
    handler.send('still open');
    expect(await received).toBe('still open');
  });

  it('a reason over 123 bytes of UTF-8 throws; 123 bytes pass', async () => {
    const { client, handler } = await server.open('/closing');
    expect(() => handler.close(1000, 'x'.repeat(124))).toThrow(InvalidCloseCodeError);
    // 42 characters, 126 bytes
    expect(() => handler.close(1000, '€'.repeat(42))).toThrow('126 bytes');
    expect(handler.isOpen).toBe(true);
    const longest = '€'.repeat(41); // 123 bytes
    const clientClosed = closed(client);
    handler.close(4000, longest);
    expect(await clientClosed).toEqual({ code: 4000, reason: longest });
  });

  it('close() twice is harmless: the first close wins and onClose runs once', async () => {
    const { client, handler } = await server.open('/closing');
    const clientClosed = closed(client);
    handler.close(4000, 'first');
    expect(() => handler.close(4001, 'second')).not.toThrow();
    expect(await clientClosed).toEqual({ code: 4000, reason: 'first' });
    await until(() => closes.has(handler.id));
    expect(() => handler.close(4002, 'after')).not.toThrow();
    await sleep(50);
    expect(closes.get(handler.id)).toEqual([{ code: 4000, reason: 'first' }]);
  });

  it("send() after close throws WebSocketClosedError with sendAfterClose: 'throw', while closing and once closed, and writes nothing", async () => {
    const { client, handler } = await server.open('/closing');
    let received = 0;
    client.on('message', () => received++);
    const clientClosed = closed(client);
    handler.close(4000, 'done');
    expect(() => handler.send('while closing')).toThrow(WebSocketClosedError);
    await clientClosed;
    await until(() => closes.has(handler.id));
    expect(() => handler.send(Buffer.from('once closed'))).toThrow(
      `send() on WebSocket connection ${handler.id} of route "/closing"`,
    );
    expect(received).toBe(0);
  });

  it("send() after close returns false by default (sendAfterClose: 'ignore'), writes nothing and is counted", async () => {
    const { client, handler } = await server.open('/closing-quietly');
    let received = 0;
    client.on('message', () => received++);
    const before = sentAfterClose(handler);
    const clientClosed = closed(client);
    handler.close();
    expect(handler.send('while closing')).toBe(false);
    await clientClosed;
    await until(() => closes.has(handler.id));
    expect(handler.send('once closed')).toBe(false);
    await expect(handler.sendAsync('once closed')).resolves.toBe(false);
    expect(sentAfterClose(handler) - before).toBe(3);
    expect(received).toBe(0);
  });

  it('terminate() ends the connection without a close frame: 1006 on both sides', async () => {
    const { client, handler } = await server.open('/closing');
    const clientClosed = closed(client);
    handler.terminate();
    expect((await clientClosed).code).toBe(1006);
    await until(() => closes.has(handler.id));
    expect(closes.get(handler.id)).toEqual([{ code: 1006, reason: '' }]);
    expect(client.readyState).toBe(WebSocket.CLOSED);
  });
});
