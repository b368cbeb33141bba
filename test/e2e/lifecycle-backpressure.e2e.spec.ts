import { Controller, Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  WebSocketClosedError,
  WebSocketHandler,
  WebSocketRoute,
  WsModule,
} from '../../src/index.js';
import { ADAPTERS, closed, nextMessage, until } from '../support/app.js';
import {
  droppedSends,
  pauseReading,
  resumeReading,
  sleep,
  useLifecycleApp,
} from './lifecycle.helpers.js';

const MiB = 1024 * 1024;
/** Under 64 KiB, so every frame has a 4-byte header. */
const CHUNK = 60_000;
const FRAME = CHUNK + 4;

const drains = new Map<string, number[]>();

@Injectable()
class FlowHandler extends WebSocketHandler {
  override onDrain() {
    const seen = drains.get(this.id) ?? [];
    seen.push(this.bufferedAmount);
    drains.set(this.id, seen);
  }
}

@Controller()
class FlowController {
  @WebSocketRoute('flow', FlowHandler, { maxBackpressure: 256 * MiB })
  flow() {}

  @WebSocketRoute('flow-strict', FlowHandler, { sendAfterClose: 'throw' })
  flowStrict() {}

  @WebSocketRoute('limit-close', FlowHandler, { closeTimeoutMs: 10_000 })
  limitClose() {}

  @WebSocketRoute('limit-drop', FlowHandler, { backpressure: 'drop' })
  limitDrop() {}
}

@Module({ imports: [WsModule.forRoot()], controllers: [FlowController] })
class AppModule {}

/** A fresh buffer each time: ws queues the caller's buffer as it is, so reusing one would hide growth. */
const chunk = () => Buffer.alloc(CHUNK, 7);

/** Sends until a send() returns false (the kernel's buffers are full); returns how many went out. */
function sendUntilQueued(handler: WebSocketHandler, limit = 4000): number {
  for (let sent = 1; sent <= limit; sent++) if (!handler.send(chunk())) return sent;
  throw new Error(`every one of ${limit} sends went straight out`);
}

describe.each(ADAPTERS)('backpressure (%s)', (adapter) => {
  const { open } = useLifecycleApp({ imports: [AppModule] }, adapter);

  it('send() returns true when the data went straight out, and then no onDrain follows', async () => {
    const { client, handler } = await open('/flow');
    const received = nextMessage(client);
    expect(handler.send('hi')).toBe(true);
    expect(handler.bufferedAmount).toBe(0);
    expect(await received).toBe('hi');
    await sleep(50);
    expect(drains.get(handler.id)).toBeUndefined();
  });

  it('send() returns false once queued behind a paused reader; bufferedAmount counts each queued frame exactly; onDrain follows the burst', async () => {
    const { client, handler } = await open('/flow');
    let arrived = 0;
    client.on('message', () => arrived++);
    pauseReading(client);
    let sent = sendUntilQueued(handler);
    const queued = handler.bufferedAmount;
    expect(queued).toBeGreaterThan(0);
    // nothing can be written between two synchronous sends: each adds exactly its frame
    for (let i = 0; i < 10; i++) {
      expect(handler.send(chunk())).toBe(false);
      sent++;
      expect(handler.bufferedAmount).toBe(queued + (i + 1) * FRAME);
    }
    expect(drains.get(handler.id)).toBeUndefined();

    resumeReading(client);
    await until(() => drains.has(handler.id), 10_000, 'onDrain');
    expect(drains.get(handler.id)).toEqual([0]);
    await until(() => arrived === sent, 10_000, 'every message');
    expect(handler.bufferedAmount).toBe(0);
    expect(handler.isOpen).toBe(true);
  });

  it('\'close\' (default): a reader that lets more than maxBackpressure (1 MiB) pile up is closed with 1008 "backpressure limit"', async () => {
    const { client, handler } = await open('/limit-close');
    let arrived = 0;
    client.on('message', () => arrived++);
    pauseReading(client);
    const droppedBefore = droppedSends(handler);
    let sent = sendUntilQueued(handler);
    let queuedAtRefusal = 0;
    while (handler.isOpen && sent < 4000) {
      queuedAtRefusal = handler.bufferedAmount;
      if (handler.send(chunk())) throw new Error('a send to a paused reader went straight out');
      if (handler.isOpen) sent++;
    }
    expect(handler.isOpen).toBe(false);
    expect(queuedAtRefusal).toBeLessThanOrEqual(MiB);
    expect(queuedAtRefusal + FRAME).toBeGreaterThan(MiB);
    expect(droppedSends(handler)).toBe(droppedBefore + 1);
    expect(handler.isOpen).toBe(false);
    // Closing now: the default sendAfterClose ('ignore') refuses without throwing.
    expect(handler.send('more')).toBe(false);

    const clientClosed = closed(client, 10_000);
    resumeReading(client);
    expect(await clientClosed).toEqual({ code: 1008, reason: 'backpressure limit' });
    // what was accepted before the limit still arrived, before the close frame
    expect(arrived).toBe(sent);
  });

  it("'drop': past maxBackpressure a message is not queued, send() returns false, the counter goes up, the connection stays", async () => {
    const { client, handler } = await open('/limit-drop');
    let arrived = 0;
    client.on('message', () => arrived++);
    pauseReading(client);
    const droppedBefore = droppedSends(handler);
    const firstSends = sendUntilQueued(handler);
    let accepted = firstSends;
    for (let i = 0; i < 200; i++) {
      const queued = handler.bufferedAmount;
      expect(handler.send(chunk())).toBe(false);
      if (handler.bufferedAmount > queued) accepted++;
      expect(handler.bufferedAmount).toBeLessThanOrEqual(MiB);
    }
    const dropped = droppedSends(handler) - droppedBefore;
    expect(dropped).toBeGreaterThan(150);
    expect(accepted + dropped).toBe(firstSends + 200);
    expect(handler.isOpen).toBe(true);

    resumeReading(client);
    await until(() => arrived === accepted, 10_000, 'the accepted messages');
    await until(() => drains.has(handler.id), 10_000, 'onDrain after the drops');
    const received = nextMessage(client);
    expect(handler.send('after')).toBe(true);
    expect(await received).toBe('after');
    expect(client.readyState).toBe(WebSocket.OPEN);
  });

  it('sendAsync() resolves once the message was written, not before', async () => {
    const { client, handler } = await open('/flow');
    const received = nextMessage(client);
    await expect(handler.sendAsync('one')).resolves.toBe(true);
    expect(await received).toBe('one');

    pauseReading(client);
    sendUntilQueued(handler);
    let settled = false;
    const written = handler.sendAsync(chunk()).finally(() => (settled = true));
    await sleep(200);
    expect(settled).toBe(false);
    resumeReading(client);
    await expect(written).resolves.toBe(true);
  });

  it("sendAsync() after close resolves false by default and rejects with WebSocketClosedError with sendAfterClose: 'throw'", async () => {
    const quiet = await open('/flow');
    quiet.handler.close();
    await expect(quiet.handler.sendAsync('late')).resolves.toBe(false);
    const strict = await open('/flow-strict');
    strict.handler.close();
    await expect(strict.handler.sendAsync('late')).rejects.toBeInstanceOf(WebSocketClosedError);
  });
});
