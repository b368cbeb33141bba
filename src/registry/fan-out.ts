import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { kContext, kSocket } from '../handler/handler.symbols.js';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import type { WebSocketMessage } from '../interfaces/websocket-message.interface.js';
import { frameMessage, idleStreamOf } from '../internals/ws.internals.js';

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
    const route = handler[kContext];
    // A handler with onDrain takes send(), which tracks when its queue empties.
    const stream = handler.onDrain === undefined ? idleStreamOf(socket) : undefined;
    if (stream === undefined) {
      handler.send(data);
      continue;
    }
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
