import type { StreamEnvelope } from '../resume.wire.js';
import type { SinceEncoder } from './attempt-url.js';
import type { BackoffOptions } from './backoff.js';
import type { WebSocketConstructor } from './websocket-like.js';

/** Options of `new ReconnectingWebSocket(url, options)`. */
export interface ReconnectingWebSocketOptions {
  /** Subprotocols offered at each handshake (`Sec-WebSocket-Protocol`). */
  protocols?: string | string[];
  /**
   * The WebSocket class. Default: the global `WebSocket` (browsers, Node 22+). Node 20 has none:
   * pass `ws`'s (`import { WebSocket } from 'ws'`). Without either the constructor throws.
   */
  WebSocket?: WebSocketConstructor;
  /** The delay before each reconnect attempt: exponential, full jitter. */
  backoff?: BackoffOptions;
  /**
   * Reconnect attempts in a row, then stop (`cause: 'attempts'`); the count, and the back-off,
   * start again after a connection that stayed open `stableMs`. Default Infinity.
   */
  maxAttempts?: number;
  /** How long a connection must stay open for the back-off to start again from the first delay (ms). Default 5000. */
  stableMs?: number;
  /**
   * Closes before `open` in a row (what a browser sees of a 401 or 403) after which the client
   * stops (`cause: 'refused'`), once they have also gone on for `refusedForMs`. A server that is
   * down looks the same to a browser, so both must hold. Default 10; `Infinity` never stops.
   * With `ws`, a 4xx status (but 408, 429) stops at once, and a server out of reach
   * (`ECONNREFUSED` …) is not counted.
   */
  maxRefused?: number;
  /**
   * How long (ms) closes before `open` must have gone on, from the first in a row, before the
   * client stops for `maxRefused`: longer than a restart or a deploy. Default 120000 (2 min); 0:
   * the count alone decides.
   */
  refusedForMs?: number;
  /** Time an attempt may take to `open`, in ms; then it counts as failed. Default 10000. */
  connectTimeoutMs?: number;
  /** Messages `send()` keeps while not connected, sent on the next `open`. Default 0: it returns false. */
  queue?: number;
  /**
   * Reads a frame of another envelope: its topic, position and data, or undefined for the app's
   * own frames. Default: the library's convention (`streamEnvelope` on the server).
   */
  decode?: (data: unknown) => StreamEnvelope | undefined;
  /**
   * Puts the positions in the URL of an attempt in another form. Default: one
   * `since=<offset>:<epoch>:<topic>` query parameter per topic (`parseSince` on the server).
   */
  encodeSince?: SinceEncoder;
}

export const CLIENT_DEFAULTS = {
  maxAttempts: Infinity,
  stableMs: 5000,
  maxRefused: 10,
  refusedForMs: 120_000,
  connectTimeoutMs: 10_000,
  queue: 0,
};
