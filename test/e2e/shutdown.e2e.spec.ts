import { Controller, Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
import { connect, startApp, until } from '../support/app.js';

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
    const { app, url } = await startApp({ imports: [AppModule] });
    const registry = app.get(WebSocketRegistry);
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(url('/stream'))));
    const firstArrived: boolean[] = [];
    const results = clients.map(
      (client, index) =>
        new Promise<{ received: number[]; code: number }>((resolve) => {
          const received: number[] = [];
          client.on('message', (data: Buffer) => {
            firstArrived[index] = true;
            received.push(Number(data.toString().split(':')[0]));
          });
          client.on('close', (code: number) => resolve({ received, code }));
        }),
    );
    await until(() => registry.size === 20);
    // Every connection queues its burst; shut down as soon as each has started to arrive.
    for (const client of clients) client.send('go');
    await until(() => firstArrived.filter(Boolean).length === 20, 3000, 'bursts started');
    await app.close();
    for (const { received, code } of await Promise.all(results)) {
      expect(code).toBe(1001);
      expect(received).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    }
    expect(registry.size).toBe(0);
  });

  it('terminates a peer that does not answer the close within closeTimeoutMs', async () => {
    const { app, url } = await startApp({ imports: [AppModule] });
    const client = await connect(url('/stream'));
    // A peer that stops reading never answers the close handshake.
    (client as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const started = Date.now();
    await app.close();
    const took = Date.now() - started;
    expect(took).toBeLessThan(3000);
    expect(took).toBeGreaterThanOrEqual(400);
    client.terminate();
  });

  it('stops accepting handshakes once shutdown began', async () => {
    const { app, url } = await startApp({ imports: [AppModule] });
    const client = await connect(url('/stream'));
    const closing = app.close();
    await expect(connect(url('/stream'))).rejects.toThrow(
      /unexpected response 503|ECONNREFUSED|socket hang up/,
    );
    await closing;
    expect(client.readyState).toBe(WebSocket.CLOSED);
  });
});
