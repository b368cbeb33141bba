import { Controller, Injectable, Module } from '@nestjs/common';
import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketHandler, WebSocketRoute, WsModule } from '../../src/index.js';
import { granularityOf } from '../../src/util/coarse-timeouts.js';
import { DEFAULT_OPTIONS } from '../../src/ws.constants.js';
import { closed, until } from '../support/app.js';
import { pauseReading, sleep, useLifecycleApp } from './lifecycle.helpers.js';

// Heartbeats and idle timeouts run on the upgraded socket, which Express and Fastify hand over
// alike (the timers live in WsModule, not in the adapter): the adapter cannot matter, so these
// timing-bound tests run on Express only.

const HEARTBEAT_MS = 200;
const IDLE_MS = 400;
/**
 * An interval no other route has, so its wheel's timer is counted from its first connection; long
 * enough that a few connections opened and closed one after the other all fall before its first tick.
 */
const CHURN_HEARTBEAT_MS = 1500;

const closes = new Map<string, { code: number; reason: string; at: number }>();
const pongs = new Map<string, number>();

@Injectable()
class LivenessHandler extends WebSocketHandler {
  override onPong() {
    pongs.set(this.id, (pongs.get(this.id) ?? 0) + 1);
  }
  override onClose(code: number, reason: string) {
    closes.set(this.id, { code, reason, at: Date.now() });
  }
}

@Controller()
class LivenessController {
  @WebSocketRoute('beat', LivenessHandler, { heartbeatMs: HEARTBEAT_MS })
  beat() {}

  @WebSocketRoute('beat-again', LivenessHandler, { heartbeatMs: 2 * HEARTBEAT_MS })
  beatAgain() {}

  @WebSocketRoute('beat-churn', LivenessHandler, { heartbeatMs: CHURN_HEARTBEAT_MS })
  beatChurn() {}

  @WebSocketRoute('idle-again', LivenessHandler, { idleTimeoutMs: 10 * IDLE_MS, heartbeatMs: 0 })
  idleAgain() {}

  @WebSocketRoute('no-beat', LivenessHandler, { heartbeatMs: 0 })
  noBeat() {}

  @WebSocketRoute('idle', LivenessHandler, { idleTimeoutMs: IDLE_MS, heartbeatMs: 100 })
  idle() {}
}

@Module({ imports: [WsModule.forRoot({ closeTimeoutMs: 300 })], controllers: [LivenessController] })
class AppModule {}

/**
 * The period of the handshakes' own shared timer (`CoarseTimeouts`, default `handshakeTimeoutMs`),
 * which runs while handshakes are pending: not a liveness timer, so not counted here.
 */
const HANDSHAKE_TICK_MS = granularityOf(DEFAULT_OPTIONS.handshakeTimeoutMs) / 2;

/**
 * Counts the heartbeat and idle `setInterval` timers created from now on (Node's own async hooks,
 * no patching).
 */
function countRepeatingTimers(): { count: number; stop: () => void } {
  const counter = { count: 0, stop: () => hook.disable() };
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      const timer = resource as { _repeat: number | null; _idleTimeout: number };
      if (
        type === 'Timeout' &&
        timer._repeat !== null &&
        timer._idleTimeout !== HANDSHAKE_TICK_MS
      ) {
        counter.count++;
      }
    },
  }).enable();
  return counter;
}

describe('connection liveness (express)', () => {
  const server = useLifecycleApp({ imports: [AppModule] });
  const open = server.open;

  it('frees a dead peer (paused socket, no pong) within two intervals; onClose gets 1006', async () => {
    const { client, handler } = await open('/beat');
    // one full ping/pong round first, so the peer is known alive when it "vanishes"
    await until(() => (pongs.get(handler.id) ?? 0) >= 1, 2000, 'a first pong');
    pauseReading(client);
    const vanishedAt = Date.now();
    await until(() => closes.has(handler.id), 4 * HEARTBEAT_MS, 'the dead peer to be freed');
    const { code, at } = closes.get(handler.id)!;
    expect(code).toBe(1006);
    // two intervals, plus slack for timer lateness on a busy machine
    expect(at - vanishedAt).toBeLessThan(2 * HEARTBEAT_MS + 150);
    expect(server.registry.get(handler.id)).toBeUndefined();
  });

  it('keeps a peer that answers pings alive', async () => {
    const { client, handler } = await open('/beat');
    await sleep(5 * HEARTBEAT_MS);
    expect(pongs.get(handler.id)).toBeGreaterThanOrEqual(3);
    expect(handler.isOpen).toBe(true);
    expect(client.readyState).toBe(WebSocket.OPEN);
  });

  it('keeps a peer that never answers pings alive while it sends frames, and frees it once it stops', async () => {
    const { client, handler } = await open('/beat', { autoPong: false });
    let pings = 0;
    client.on('ping', () => pings++);
    const chatter = setInterval(() => client.send('still here'), HEARTBEAT_MS / 2);
    await sleep(5 * HEARTBEAT_MS);
    clearInterval(chatter);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(pongs.get(handler.id)).toBeUndefined();
    expect(handler.isOpen).toBe(true);

    const clientClosed = closed(client);
    await until(() => closes.has(handler.id), 4 * HEARTBEAT_MS, 'the silent peer to be freed');
    expect(closes.get(handler.id)!.code).toBe(1006);
    expect((await clientClosed).code).toBe(1006);
  });

  it('counts a ping from the peer as a sign of life', async () => {
    const { client, handler } = await open('/beat', { autoPong: false });
    const pinging = setInterval(() => client.ping(), HEARTBEAT_MS / 2);
    await sleep(5 * HEARTBEAT_MS);
    clearInterval(pinging);
    expect(handler.isOpen).toBe(true);
  });

  it('heartbeatMs 0 sends no pings and never drops a silent peer', async () => {
    const { client, handler } = await open('/no-beat', { autoPong: false });
    let pings = 0;
    client.on('ping', () => pings++);
    await sleep(5 * HEARTBEAT_MS);
    expect(pings).toBe(0);
    expect(handler.isOpen).toBe(true);
    expect(client.readyState).toBe(WebSocket.OPEN);
  });

  it('closes a connection that sent nothing for idleTimeoutMs with 1001 "idle timeout", even while it answers pings', async () => {
    const { client, handler } = await open('/idle');
    const openedAt = Date.now();
    expect(await closed(client, 3 * IDLE_MS)).toEqual({ code: 1001, reason: 'idle timeout' });
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(IDLE_MS - 10);
    expect(pongs.get(handler.id)).toBeGreaterThanOrEqual(1);
    await until(() => closes.has(handler.id));
    expect(closes.get(handler.id)).toMatchObject({ code: 1001, reason: 'idle timeout' });
  });

  it('resets the idle timeout with every message', async () => {
    const { client, handler } = await open('/idle');
    const chatter = setInterval(() => client.send('hi'), IDLE_MS / 3);
    await sleep(3 * IDLE_MS);
    clearInterval(chatter);
    const lastMessageAt = Date.now();
    expect(handler.isOpen).toBe(true);
    expect(await closed(client, 3 * IDLE_MS)).toEqual({ code: 1001, reason: 'idle timeout' });
    expect(Date.now() - lastMessageAt).toBeGreaterThanOrEqual(IDLE_MS - 10 - IDLE_MS / 3);
  });

  it('runs one timer per interval, not one per connection', async () => {
    const repeating = countRepeatingTimers();
    try {
      // the probe sees the wheel's timer: the first connection on an interval starts it
      await server.open('/beat-again');
      expect(repeating.count).toBe(1);
      for (let i = 0; i < 20; i++) {
        await server.open('/beat-again');
        await server.open('/idle-again');
      }
      // 40 more connections, one more interval (the idle check's)
      expect(repeating.count).toBe(2);
      expect(server.registry.size).toBeGreaterThanOrEqual(41);
    } finally {
      repeating.stop();
    }
  });

  it('keeps the timer while connections come and go, and stops it at a tick with none open', async () => {
    const repeating = countRepeatingTimers();
    try {
      // one at a time: the route has no connection between two of them
      for (let i = 0; i < 5; i++) {
        const { client, handler } = await server.open('/beat-churn');
        client.close();
        await until(() => closes.has(handler.id), 2000, 'the connection to close');
      }
      expect(repeating.count).toBe(1);
      // a tick finds the route empty and stops the timer: the next connection starts a new one
      await sleep(2 * CHURN_HEARTBEAT_MS);
      const { handler } = await server.open('/beat-churn');
      expect(repeating.count).toBe(2);
      // and it pings that connection as before
      await until(() => (pongs.get(handler.id) ?? 0) >= 1, 4 * CHURN_HEARTBEAT_MS, 'a pong');
    } finally {
      repeating.stop();
    }
  });
});
