import { Controller, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
import { connectWebSocket, type WebSocketTestClient } from '../../src/testing/index.js';
import { portFor, SERVERS, startOn, until, type ServerName } from '../support/app.js';

const CLOSE_TIMEOUT_MS = 300;

/** The pattern every WebSocket tutorial teaches: push from a timer, clear it in onClose(). */
@Injectable()
class TickHandler extends WebSocketHandler {
  private timer: NodeJS.Timeout | undefined;
  override onOpen() {
    this.timer = setInterval(() => this.send(`tick ${Date.now()}`), 10);
  }
  override onClose() {
    clearInterval(this.timer);
  }
}

/** The same with an awaited send: a rejection here would be unhandled. */
@Injectable()
class AsyncTickHandler extends WebSocketHandler {
  private timer: NodeJS.Timeout | undefined;
  override onOpen() {
    this.timer = setInterval(async () => {
      await this.sendAsync(`tick ${Date.now()}`);
    }, 10);
  }
  override onClose() {
    clearInterval(this.timer);
  }
}

@Injectable()
class QuietHandler extends WebSocketHandler {}

@Controller()
class TickController {
  @WebSocketRoute('quiet', QuietHandler)
  quiet() {}

  @WebSocketRoute('ticks', TickHandler)
  ticks() {}

  @WebSocketRoute('ticks-async', AsyncTickHandler)
  ticksAsync() {}
}

function appModule(server: ServerName) {
  @Module({
    imports: [
      WsModule.forRoot({
        closeTimeoutMs: CLOSE_TIMEOUT_MS,
        heartbeatMs: 0,
        ...portFor(server),
      }),
    ],
    controllers: [TickController],
  })
  class ClosingAppModule {}
  return ClosingAppModule;
}

/** A peer on a slow link: it stops reading, so it neither sees the server's close frame nor ends TCP. */
function stopReading(client: WebSocketTestClient): void {
  (client.socket as unknown as { _socket: Socket })._socket.pause();
}

describe.each(SERVERS)('a connection that started closing (%s)', (server) => {
  let app: INestApplicationContext;
  let url: (path: string) => string;
  let closedApp = false;
  const faults: unknown[] = [];
  const onFault = (error: unknown) => faults.push(error);

  beforeEach(async () => {
    faults.length = 0;
    process.on('uncaughtException', onFault);
    process.on('unhandledRejection', onFault);
    closedApp = false;
    ({ app, url } = await startOn(server, { imports: [appModule(server)] }));
  });

  afterEach(async () => {
    process.off('uncaughtException', onFault);
    process.off('unhandledRejection', onFault);
    if (!closedApp) await app.close();
  });

  const registry = () => app.get(WebSocketRegistry);

  it.each(['/ticks', '/ticks-async'])(
    '%s: a timer sending while the client leaves slowly raises nothing; the refused sends are counted',
    async (path) => {
      const client = await connectWebSocket(url(path));
      await until(() => client.messages.length >= 3, 2000, 'ticks');
      client.socket.close(1000);
      stopReading(client);
      // The server is CLOSING until closeTimeoutMs ends the silent peer; the timer keeps firing.
      await until(() => registry().size === 0, 3000, 'the connection to be freed');
      await new Promise((resolve) => setTimeout(resolve, 30));
      client.terminate();
      expect(faults).toEqual([]);
      expect(registry().stats().total.sentAfterClose).toBeGreaterThan(0);
    },
  );

  it('every public method answers without throwing once the connection started closing, and once closed', async () => {
    const other = await connectWebSocket(url('/quiet'));
    const client = await connectWebSocket(url('/quiet'));
    await until(() => registry().size === 2);
    // In the order they opened: `other` was open before `client` connected.
    const [, handler] = registry().byPath('/quiet');
    stopReading(client);
    handler.close(4000, 'bye');
    const answersQuietly = async () => {
      expect(handler.isOpen).toBe(false);
      expect(handler.send('late')).toBe(false);
      await expect(handler.sendAsync('late')).resolves.toBe(false);
      expect(() => handler.ping()).not.toThrow();
      expect(() => handler.close(1000)).not.toThrow();
      expect(() => handler.subscribe('room')).not.toThrow();
      expect(() => handler.unsubscribe('room')).not.toThrow();
      // the closing connection is never written to; the open one still is
      expect(registry().publish('room', 'x', { except: handler })).toBe(0);
      expect(registry().broadcast('x', { except: handler })).toBe(1);
      expect(registry().broadcast('x', { path: '/quiet' })).toBe(1);
    };
    await answersQuietly(); // closing: the peer does not read the close frame
    client.terminate();
    await until(() => registry().size === 1, 2000, 'the connection to be freed');
    await answersQuietly(); // closed
    expect(registry().subscriberCount('room')).toBe(0);
    expect(registry().stats().routes['/quiet'].sentAfterClose).toBe(4);
    await until(() => other.messages.length === 4, 2000, 'broadcasts to the open client');
    // The testing client: send() on a closing client throws (a test should know), close() resolves.
    other.socket.close(1000);
    expect(() => other.send('late')).toThrow(/closing/);
    await expect(other.close()).resolves.toMatchObject({ code: 1000 });
  });

  it('app.close() while peers are slow to answer the 1001 raises nothing', async () => {
    const clients = await Promise.all(
      ['/ticks', '/ticks', '/ticks-async', '/ticks-async'].map((path) =>
        connectWebSocket(url(path)),
      ),
    );
    await until(() => clients.every((c) => c.messages.length >= 2), 2000, 'ticks');
    for (const client of clients) stopReading(client);
    const stats = registry();
    await app.close();
    closedApp = true;
    await new Promise((resolve) => setTimeout(resolve, 30));
    for (const client of clients) client.terminate();
    expect(faults).toEqual([]);
    expect(stats.stats().total.sentAfterClose).toBeGreaterThan(0);
  });
});
