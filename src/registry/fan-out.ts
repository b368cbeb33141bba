import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocket } from 'ws';
import { kRoute, kSocket } from '../handler/handler.symbols.js';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import type { WebSocketMessage } from '../interfaces/websocket-message.interface.js';

/** `ws`'s framing function (exported by `ws` at runtime, absent from `@types/ws`). */
interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
};

/** The parts of a server-side `ws` WebSocket the fast path reads (see ws/lib/websocket.js). */
interface WebSocketInternals {
  _socket: Socket;
  _sender: { _state: number; _bufferedBytes: number };
  _extensions: Record<string, unknown>;
}

/** `Sender`'s idle state: not deflating, not reading a blob (ws/lib/sender.js `DEFAULT`). */
const SENDER_IDLE = 0;
const PERMESSAGE_DEFLATE = 'permessage-deflate';

const TEXT_FRAME: FrameOptions = {
  fin: true,
  opcode: 1,
  mask: false,
  readOnly: false,
  rsv1: false,
};
const BINARY_FRAME: FrameOptions = { ...TEXT_FRAME, opcode: 2 };

/**
 * One unmasked, uncompressed frame holding the whole message, as `ws` would write it to a
 * connection without permessage-deflate. Built once per broadcast and written to every socket.
 */
export function frameMessage(data: WebSocketMessage): Buffer {
  const binary = typeof data !== 'string';
  const payload = binary ? data : Buffer.from(data);
  const [header, body] = Sender.frame(payload, binary ? BINARY_FRAME : TEXT_FRAME);
  return body === undefined ? header : Buffer.concat([header, body], header.length + body.length);
}

/**
 * Sends `data` to each open handler of `targets` except `except`, framing it once (socket.io does
 * the same with pre-encoded packets). The frame goes straight to a socket's TCP stream only where
 * that is exactly what `ws` would write, in the same order: no permessage-deflate, and `ws`'s
 * sender idle with nothing of its own queued (a deflating or queued send would otherwise be
 * overtaken). Whatever would pass `maxBackpressure`, or belongs to a socket that cannot take the
 * frame, goes through `handler.send()`, which applies the socket's backpressure policy.
 *
 * Sockets written to are corked until the end of the tick (as uWebSockets.js corks), so several
 * broadcasts in one tick leave each socket in one write system call rather than one per message;
 * at most `MAX_CORKED_BYTES` wait, and corked bytes never count against `maxBackpressure`.
 * Returns how many connections the message was passed to.
 */
export function fanOut(
  targets: Iterable<WebSocketHandler>,
  data: WebSocketMessage,
  except: WebSocketHandler | undefined,
): number {
  let frame: Buffer | undefined;
  let passed = 0;
  for (const handler of targets) {
    if (handler === except) continue;
    const socket = handler[kSocket];
    if (socket.readyState !== WebSocket.OPEN) continue;
    passed++;
    const route = handler[kRoute];
    const internals = socket as unknown as WebSocketInternals;
    // A handler with onDrain takes send(), which tracks when its queue empties.
    if (handler.onDrain !== undefined || !canWriteFrame(internals)) {
      handler.send(data);
      continue;
    }
    const stream = internals._socket;
    if (socket.bufferedAmount + data.length > route.options.maxBackpressure) {
      // Bytes held by our cork are not a slow reader's: flush them before judging.
      if (stream.writableCorked !== 0) stream.uncork();
      handler.send(data);
      continue;
    }
    frame ??= frameMessage(data);
    route.counters.messagesOut++;
    route.counters.bytesOut += data.length;
    if (stream.writableCorked === 0) {
      if (frame.length <= MAX_CORKED_BYTES) corkUntilNextTick(stream);
    } else if (stream.writableLength + frame.length > MAX_CORKED_BYTES) stream.uncork();
    stream.write(frame);
  }
  return passed;
}

function canWriteFrame(socket: WebSocketInternals): boolean {
  const sender = socket._sender;
  return (
    sender._state === SENDER_IDLE &&
    sender._bufferedBytes === 0 &&
    socket._extensions[PERMESSAGE_DEFLATE] === undefined
  );
}

/** Past this, a corked stream is flushed at once: coalescing pays for small messages only. */
const MAX_CORKED_BYTES = 16 * 1024;

/** Streams corked by this tick's fan-outs; one `nextTick` uncorks them all. */
let corked: Socket[] = [];

function corkUntilNextTick(stream: Socket): void {
  stream.cork();
  if (corked.push(stream) === 1) process.nextTick(uncorkAll);
}

function uncorkAll(): void {
  const streams = corked;
  corked = [];
  for (const stream of streams) stream.uncork();
}
