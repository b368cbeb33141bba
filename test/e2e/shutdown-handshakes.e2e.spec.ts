import { Controller, Injectable, Module, UseGuards, type CanActivate } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { EchoHandler, WebSocketRegistry, WebSocketRoute, WsModule } from '../../src/index.js';
import { connectWebSocket } from '../../src/testing/index.js';
import { shuttingDownReason } from '../../src/handshake.messages.js';
import { portFor, SERVERS, startOn, until, type ServerName } from '../support/app.js';

const COUNT = 100;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 1000;

/** An auth backend slow during a rolling deploy: every check waits until the test opens the gate. */
const gate = { entered: 0, open: () => {}, opened: Promise.resolve() };
function closeGate(): void {
  gate.entered = 0;
  gate.opened = new Promise((resolve) => (gate.open = resolve));
}

@Injectable()
class SlowAuthGuard implements CanActivate {
  async canActivate() {
    gate.entered++;
    await gate.opened;
    return true;
  }
}

@Controller()
class RoutesController {
  @WebSocketRoute('open', EchoHandler)
  open() {}

  @UseGuards(SlowAuthGuard)
  @WebSocketRoute('slow', EchoHandler)
  slow() {}
}

function appModule(server: ServerName) {
  @Module({
    imports: [
      WsModule.forRoot({
        handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
        closeTimeoutMs: CLOSE_TIMEOUT_MS,
        heartbeatMs: 0,
        ...portFor(server),
      }),
    ],
    controllers: [RoutesController],
  })
  class ShutdownAppModule {}
  return ShutdownAppModule;
}

describe.each(SERVERS)('shutdown with handshakes inside a slow guard (%s)', (server) => {
  it(`answers ${COUNT} pending handshakes 503 at once and closes ${COUNT} open connections with 1001`, async () => {
    closeGate();
    const { app, url } = await startOn(server, { imports: [appModule(server)] });
    const registry = app.get(WebSocketRegistry);
    const opened = await Promise.all(
      Array.from({ length: COUNT }, () => connectWebSocket(url('/open'))),
    );
    const waiting = Array.from({ length: COUNT }, () =>
      connectWebSocket(url('/slow'), '', { timeoutMs: HANDSHAKE_TIMEOUT_MS * 2 }),
    );
    await until(() => gate.entered === COUNT, 5000, 'every handshake inside the guard');

    const started = Date.now();
    await app.close();
    const took = Date.now() - started;

    // Nothing waited for the guards: the open connections' 1001 close bounds app.close().
    expect(took).toBeLessThan(HANDSHAKE_TIMEOUT_MS / 2);
    for (const client of opened) expect((await client.closed).code).toBe(1001);
    const refused = await Promise.all(waiting);
    for (const client of refused) {
      expect(client.rejection?.status).toBe(503);
      expect(client.rejection?.headers['retry-after']).toBeDefined();
      expect(JSON.parse(client.rejection!.body)).toMatchObject({ message: shuttingDownReason });
    }
    // The guards allow them now: that changes nothing.
    gate.open();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(registry.size).toBe(0);
    expect(registry.stats().rejectedHandshakes).toEqual({ 503: COUNT });
  });
});
