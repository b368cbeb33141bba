import { Logger } from '@nestjs/common';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import * as wsModule from 'ws';
import type { WebSocket } from 'ws';

/**
 * Everything of `ws` the library reads beyond its typed API, in one file: exports that
 * `@types/ws` does not declare (`Sender.frame`, `subprotocol`, `extension`) and private fields of a
 * server-side WebSocket (ws/lib/websocket.js, ws/lib/sender.js). The frame-once fast path checks
 * their shapes once, on the first socket it meets, and falls back to `send()` when a `ws` release
 * has moved them.
 */

/** `ws`'s framing options (ws/lib/sender.js `Sender.frame`). */
interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

const untyped = wsModule as unknown as {
  Sender?: { frame?: (data: Buffer, options: FrameOptions) => Buffer[] };
  subprotocol: { parse(header: string): Set<string> };
  extension: { parse(header: string): Record<string, unknown> };
};

/** `ws`'s own parsers for `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`. */
export const wsHeaderParsers = { subprotocol: untyped.subprotocol, extension: untyped.extension };

/** The parts of a server-side `ws` WebSocket the fast path reads. */
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

/** Whether this `ws` has the shapes the fast path reads; undefined until the first socket. */
let usable: boolean | undefined;

/** True when `socket` and this `ws` have every field the fast path reads, with the expected types. */
export function hasFrameInternals(socket: WebSocket): boolean {
  const internals = socket as unknown as Partial<WebSocketInternals>;
  const sender = internals._sender;
  return (
    typeof untyped.Sender?.frame === 'function' &&
    internals._socket instanceof Socket &&
    typeof sender === 'object' &&
    sender !== null &&
    typeof sender._state === 'number' &&
    typeof sender._bufferedBytes === 'number' &&
    typeof internals._extensions === 'object' &&
    internals._extensions !== null
  );
}

function checkOnce(socket: WebSocket): boolean {
  usable = hasFrameInternals(socket);
  if (!usable) {
    const { version } = createRequire(import.meta.url)('ws/package.json') as { version: string };
    new Logger('WebSocketRegistry').warn(
      `ws ${version} lacks the internals (Sender.frame, _socket, _sender._state, ` +
        `_sender._bufferedBytes, _extensions) that frame a broadcast once: broadcast() and ` +
        `publish() send to each connection with send(), which works but costs more CPU`,
    );
  }
  return usable;
}

/**
 * The TCP stream of `socket` when a frame written to it is exactly what `ws` would write, in the
 * same order: no permessage-deflate, `ws`'s sender idle with nothing of its own queued. Undefined
 * otherwise, and always when this `ws` lacks the fields (checked on the first call).
 */
export function idleStreamOf(socket: WebSocket): Socket | undefined {
  if (!(usable ?? checkOnce(socket))) return undefined;
  const internals = socket as unknown as WebSocketInternals;
  const sender = internals._sender;
  return sender._state === SENDER_IDLE &&
    sender._bufferedBytes === 0 &&
    internals._extensions[PERMESSAGE_DEFLATE] === undefined
    ? internals._socket
    : undefined;
}

/**
 * One unmasked, uncompressed frame holding the whole message, as `ws` would write it to a
 * connection without permessage-deflate. Only called once `idleStreamOf()` returned a stream.
 */
export function frameMessage(data: string | Buffer): Buffer {
  const binary = typeof data !== 'string';
  const payload = binary ? data : Buffer.from(data);
  const [header, body] = untyped.Sender!.frame!(payload, binary ? BINARY_FRAME : TEXT_FRAME);
  return body === undefined ? header : Buffer.concat([header, body], header.length + body.length);
}

/**
 * The close code `ws` sent when it reports a frame it refused (RFC 6455 section 7.4.1): a malformed
 * frame 1002, invalid UTF-8 1007, a message over `maxPayload` 1009, too many fragments 1008.
 * `ws` keeps it on the error under a private symbol (described `status-code`); its documented
 * `error.code` (`WS_ERR_*`) tells the same when a release moves that symbol. Undefined for an error
 * of the socket (`ECONNRESET`), after which `ws` sends no close frame.
 */
export function sentCloseCodeOf(error: Error): number | undefined {
  const symbol = Object.getOwnPropertySymbols(error).find(
    (key) => key.description === 'status-code',
  );
  const status =
    symbol === undefined ? undefined : (error as unknown as Record<symbol, unknown>)[symbol];
  if (typeof status === 'number') return status;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
  switch (code) {
    case 'WS_ERR_INVALID_UTF8':
      return 1007;
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009;
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 1008;
    default:
      return 1002;
  }
}
