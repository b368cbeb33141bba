import { Controller, Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
import { connectWebSocket } from '../../src/testing/index.js';
import { startApp, until } from '../support/app.js';

const COUNT = 200;

@Injectable()
class StreamHandler extends WebSocketHandler {
  override onMessage() {
    // Everything passed to send() before shutdown must reach the peer before the 1001 close.
    for (let i = 0; i < COUNT; i++) this.send(`${i}:${'x'.repeat(1000)}`);
  }
}

@Controller()
class StreamController {
  @WebSocketRoute('stream', StreamHandler)
  stream() {}
}

@Module({ imports: [WsModule.forRoot({ closeTimeoutMs: 500 })], controllers: [StreamController] })
class AppModule {}

describe('shutdown', () => {
  it('flushes what was sent, then closes every connection with 1001, and app.close() resolves', async () => {
    const { app } = await startApp({ imports: [AppModule] });
    const registry = app.get(WebSocketRegistry);
    const clients = await Promise.all(
      Array.from({ length: 20 }, () => connectWebSocket(app, '/stream')),
    );
    await until(() => registry.size === 20);
    // Every connection queues its burst; shut down as soon as each has started to arrive.
    for (const client of clients) client.send('go');
    await until(() => clients.every((c) => c.messages.length > 0), 3000, 'bursts started');
    await app.close();
    for (const client of clients) {
      expect((await client.closed).code).toBe(1001);
      const received = client.messages.map((data) => Number(data.toString().split(':')[0]));
      expect(received).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    }
    expect(registry.size).toBe(0);
  });

  it('terminates a peer that does not answer the close within closeTimeoutMs', async () => {
    const { app } = await startApp({ imports: [AppModule] });
    const client = await connectWebSocket(app, '/stream');
    // A peer that stops reading never answers the close handshake.
    (client.socket as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const started = Date.now();
    await app.close();
    const took = Date.now() - started;
    expect(took).toBeLessThan(3000);
    expect(took).toBeGreaterThanOrEqual(400);
    client.terminate();
  });

  it('stops accepting handshakes once shutdown began', async () => {
    const { app, url } = await startApp({ imports: [AppModule] });
    const client = await connectWebSocket(app, '/stream');
    const closing = app.close();
    // By URL: connectWebSocket(app) would make a closed app listen again.
    const late = await connectWebSocket(url('/stream')).then(
      async (refused) => `unexpected response ${(await refused.expectRejected()).status}`,
      (error: Error) => error.message,
    );
    expect(late).toMatch(/unexpected response 503|ECONNREFUSED|socket hang up/);
    await closing;
    expect(client.socket.readyState).toBe(WebSocket.CLOSED);
  });
});
