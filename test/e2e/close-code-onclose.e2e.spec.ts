import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  WebSocketHandler,
  WebSocketRoute,
  WsModule,
  type WebSocketMessage,
} from '../../src/index.js';
import { ADAPTERS, startApp, until } from '../support/app.js';
import { encodeFrame, frames, OP, RawWebSocket } from '../support/frames.js';

// `onClose(code, reason)` gets the code and reason this server sent when it closed the connection
// itself, whatever the peer answered: here a raw-socket peer that never answers the close frame
// (so `ws` destroys the socket after `closeTimeoutMs` and sees no code of its own, 1006).
// `closedByServer` tells those closes from the peer's.

interface Closed {
  path: string;
  code: number;
  reason: string;
  closedByServer: boolean;
}

const closes: Closed[] = [];

@Injectable()
class RecordingHandler extends WebSocketHandler {
  override onMessage(data: WebSocketMessage) {
    if (data !== 'flood') return;
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 200 && this.isOpen; i++) this.send(chunk);
  }

  override onClose(code: number, reason: string) {
    closes.push({ path: this.path, code, reason, closedByServer: this.closedByServer });
  }

  // `ws` reports the frame it refused here; the close is what this suite looks at
  override onError() {}
}

@Controller()
class ClosingController {
  @WebSocketRoute('frames', RecordingHandler, { maxPayload: 64 })
  frames() {}

  @WebSocketRoute('flood', RecordingHandler, { maxBackpressure: 256 * 1024, backpressure: 'close' })
  flood() {}

  @WebSocketRoute('idle', RecordingHandler, { idleTimeoutMs: 300 })
  idle() {}
}

@Module({
  imports: [WsModule.forRoot({ closeTimeoutMs: 300 })],
  controllers: [ClosingController],
})
class ClosingModule {}

/** The close frame the server sent to `peer` (its code), then the onClose the handler got. */
async function closeOf(peer: RawWebSocket, path: string) {
  let frame = await peer.nextFrame();
  while (frame.opcode !== OP.close) frame = await peer.nextFrame();
  const sent = frame.payload.readUInt16BE(0);
  await until(() => closes.some((closed) => closed.path === path), 5000, 'onClose');
  // the peer never answered: the server ended the TCP connection itself
  await until(() => peer.tcpClosed, 2000, 'the server to end the TCP connection');
  return { sent, closed: closes.find((closed) => closed.path === path)! };
}

describe.each(ADAPTERS)('onClose gets the close this server sent (%s)', (adapter) => {
  let app: INestApplication | undefined;
  let port: number;
  const peers: RawWebSocket[] = [];

  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.destroy();
    await app?.close();
    app = undefined;
  });

  const boot = async () => {
    closes.length = 0;
    ({ app, port } = await startApp({ imports: [ClosingModule] }, undefined, adapter));
  };

  /** A raw peer that reads frames but never answers a close frame. */
  const open = async (path: string) => {
    const peer = await RawWebSocket.open(port, path);
    peers.push(peer);
    return peer;
  };

  it.each([
    ['a malformed frame (reserved opcode 3)', 1002, encodeFrame({ opcode: 3, payload: 'x' })],
    ['an unmasked client frame', 1002, encodeFrame({ opcode: OP.text, payload: 'x', mask: false })],
    ['invalid UTF-8 in a text frame', 1007, frames.text(Buffer.from([0x68, 0xff, 0x69]))],
    ['a message over maxPayload (64 bytes)', 1009, frames.binary(Buffer.alloc(100))],
  ] as const)('%s: %i to the peer, and to onClose', async (_name, code, bytes) => {
    await boot();
    const peer = await open('/frames');
    peer.write(bytes);
    const { sent, closed } = await closeOf(peer, '/frames');
    expect(sent).toBe(code);
    expect(closed).toEqual({ path: '/frames', code, reason: '', closedByServer: true });
  });

  it('the backpressure limit: 1008 "backpressure limit" to a peer that stopped reading', async () => {
    await boot();
    const peer = await open('/flood');
    peer.socket.pause();
    peer.write(frames.text('flood'));
    await until(() => closes.length > 0, 5000, 'onClose');
    expect(closes).toEqual([
      { path: '/flood', code: 1008, reason: 'backpressure limit', closedByServer: true },
    ]);
  });

  it('the idle timeout: 1001 "idle timeout"', async () => {
    await boot();
    const peer = await open('/idle');
    const { sent, closed } = await closeOf(peer, '/idle');
    expect(sent).toBe(1001);
    expect(closed).toEqual({
      path: '/idle',
      code: 1001,
      reason: 'idle timeout',
      closedByServer: true,
    });
  });

  it('shutdown: 1001 "server shutting down"', async () => {
    await boot();
    const peer = await open('/frames');
    const closing = app!.close();
    app = undefined;
    const frame = await peer.nextFrame();
    expect(frame.opcode).toBe(OP.close);
    expect(frame.payload.readUInt16BE(0)).toBe(1001);
    await closing;
    expect(closes).toEqual([
      { path: '/frames', code: 1001, reason: 'server shutting down', closedByServer: true },
    ]);
  });

  it("the peer's own close: its code and reason, closedByServer false; a peer that vanishes: 1006", async () => {
    await boot();
    const peer = await open('/frames');
    peer.write(frames.close(4000, 'bye'));
    await until(() => closes.length === 1, 5000, 'onClose');
    const gone = await open('/frames');
    gone.destroy();
    await until(() => closes.length === 2, 5000, 'onClose');
    expect(closes).toEqual([
      { path: '/frames', code: 4000, reason: 'bye', closedByServer: false },
      { path: '/frames', code: 1006, reason: '', closedByServer: false },
    ]);
  });
});
