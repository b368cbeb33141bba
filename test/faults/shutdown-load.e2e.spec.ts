import {
  Controller,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { WebSocketHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
import { WebSocket } from 'ws';
import { ADAPTERS, startApp, until } from '../support/app.js';

const CLIENTS = 200;
const CLOSE_TIMEOUT_MS = 2000;
/** What app.close() may take beyond closeTimeoutMs (a bound, not a benchmark). */
const SHUTDOWN_MARGIN_MS = 2000;

/** Counts what it passed to send(); reports the count at close under the client's `?c=` id. */
@Injectable()
class NumberedHandler extends WebSocketHandler {
  sent = 0;
  override onClose() {
    sentByClient.set(this.query.get('c')!, this.sent);
  }
}
const sentByClient = new Map<string, number>();

/** Sends every open connection its next number every few milliseconds, through shutdown too. */
@Injectable()
class Ticker implements OnModuleInit, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly registry: WebSocketRegistry) {}
  onModuleInit() {
    this.timer = setInterval(() => {
      for (const handler of this.registry.byPath('/numbers') as NumberedHandler[]) {
        if (!handler.isOpen) continue;
        handler.send(String(handler.sent));
        handler.sent++;
      }
    }, 5);
  }
  onApplicationShutdown() {
    clearInterval(this.timer);
  }
}

@Controller()
class NumbersController {
  @WebSocketRoute('numbers', NumberedHandler)
  numbers() {}
}

@Module({
  imports: [WsModule.forRoot({ closeTimeoutMs: CLOSE_TIMEOUT_MS, heartbeatMs: 0 })],
  controllers: [NumbersController],
  providers: [Ticker],
})
class NumbersModule {}

describe.each(ADAPTERS)('shutdown under load (%s)', (adapter) => {
  it(`delivers to ${CLIENTS} clients everything passed to send(), in order, before the 1001 close`, async () => {
    sentByClient.clear();
    const { app, url } = await startApp({ imports: [NumbersModule] }, undefined, adapter);
    const registry = app.get(WebSocketRegistry);
    // Listeners first: the stream starts as soon as a connection opens.
    const clients = Array.from({ length: CLIENTS }, (_, i) => {
      const client = new WebSocket(url(`/numbers?c=${i}`));
      const record = { received: [] as number[], code: 0, afterClose: 0 };
      const outcome = new Promise<typeof record>((resolve) => {
        client.on('message', (data: Buffer) => {
          if (record.code) record.afterClose++;
          record.received.push(Number(data.toString()));
        });
        client.on('close', (code: number) => {
          record.code = code;
          resolve(record);
        });
      });
      return { client, record, outcome };
    });
    // A bound for a busy machine (the other suite files run beside it), not a speed check.
    await until(() => registry.size === CLIENTS, 20_000, 'every client to connect');
    // Let the stream run until every client has received some numbers.
    await until(
      () => clients.every(({ record }) => record.received.length >= 5),
      10_000,
      'the streams to flow',
    );

    const started = performance.now();
    await app.close();
    const tookMs = performance.now() - started;

    const results = await Promise.all(clients.map(({ outcome }) => outcome));
    expect(sentByClient.size).toBe(CLIENTS);
    let delivered = 0;
    results.forEach(({ received, code, afterClose }, i) => {
      const sent = sentByClient.get(String(i))!;
      expect(code, `client ${i}`).toBe(1001);
      expect(afterClose, `client ${i}: messages after the close`).toBe(0);
      // Every number passed to send(), none missing, none reordered.
      expect(received, `client ${i}`).toEqual(Array.from({ length: sent }, (_, n) => n));
      delivered += received.length;
    });
    expect(delivered).toBeGreaterThan(CLIENTS * 5);
    expect(registry.size).toBe(0);
    expect(Math.round(tookMs), 'app.close() took (ms)').toBeLessThan(
      CLOSE_TIMEOUT_MS + SHUTDOWN_MARGIN_MS,
    );
  }, 60_000);
});
