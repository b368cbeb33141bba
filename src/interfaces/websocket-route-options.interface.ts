import type { IncomingMessage } from 'node:http';
import type { PerMessageDeflateOptions } from 'ws';

/**
 * Decides whether a browser's `Origin` may open a connection.
 * Receives the `Origin` header (undefined for non-browser clients) and the upgrade request.
 */
export type OriginPredicate = (origin: string | undefined, request: IncomingMessage) => boolean;

/**
 * Picks the subprotocol from the client's offers, in the client's order.
 * Return one of them, or `false` to accept the connection without a subprotocol.
 */
export type ProtocolSelector = (
  offered: readonly string[],
  request: IncomingMessage,
) => string | false;

/**
 * Options of one WebSocket route: the third argument of `@WebSocketRoute()`.
 * Every option may also be given to `WsModule.forRoot()`, where it becomes the default of every route.
 * A bad value fails bootstrap with an `Error` naming the route and the option: numbers must be
 * integers and not negative, and the four timeouts (`closeTimeoutMs`, `handshakeTimeoutMs`,
 * `heartbeatMs`, `idleTimeoutMs`) at most 2147483647 ms, Node's longest timer.
 */
export interface WebSocketRouteOptions {
  /** Largest message accepted, in bytes; a bigger one closes the connection with 1009. Default 1 MiB (1048576). */
  maxPayload?: number;
  /** How long a close handshake (and the shutdown's 1001 close) may take before the socket is terminated. Default 5000 ms. */
  closeTimeoutMs?: number;
  /**
   * permessage-deflate (RFC 7692). Default off. `true` enables it with a 1 KiB threshold so small
   * messages are sent uncompressed; an object is passed to `ws` over the same defaults
   * (`serverNoContextTakeover: true`, `threshold: 1024`: `ws` honours `threshold` only without
   * server context takeover).
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Origins allowed to connect: origins such as `'https://app.example.com'`, or a predicate.
   * Entries are compared as browsers send `Origin` (RFC 6454 section 6.1), so
   * `'https://App.example.com:443/'` is the same origin; an entry that is not an origin (no scheme,
   * say) fails bootstrap, naming the route. Default: any origin. Browsers send cookies with cross-site WebSocket handshakes, so a route
   * that authenticates by cookie must set this (cross-site WebSocket hijacking).
   * Requests without an `Origin` header (non-browser clients) are allowed unless a predicate says otherwise.
   */
  allowedOrigins?: readonly string[] | OriginPredicate;
  /** Subprotocols the route speaks, most preferred first. The first of the client's offers that is listed wins. */
  protocols?: readonly string[];
  /** Answer `400` when the client offers no subprotocol the route speaks. Default false. */
  requireProtocol?: boolean;
  /** Overrides how the subprotocol is chosen from the client's offers (see `ProtocolSelector`). */
  selectProtocol?: ProtocolSelector;
  /** Most connections open at once on this route; past it the handshake gets `503` with `Retry-After`. Default unlimited. */
  maxConnections?: number;
  /**
   * How long the route's guards may take before the handshake is answered `503`. Default 10000 ms.
   * On an HTTP app the `503` comes within a tenth of it (at most 100 ms) after it runs out: the
   * handshakes of one timeout share one timer.
   * Given to `WsModule.forRoot()`, it also bounds how long a handshake's headers may take to arrive
   * (slowloris): the HTTP server's `headersTimeout` is lowered to it, answered `408`.
   */
  handshakeTimeoutMs?: number;
  /**
   * Ping interval; a peer that sent nothing (pong, ping or message) since the last ping is
   * terminated (close code 1006), so a vanished peer is freed within two intervals. 0 disables.
   * Default 30000 ms.
   */
  heartbeatMs?: number;
  /** Close with 1001 "idle timeout" a connection that sent no message for this long. 0 (default) disables. */
  idleTimeoutMs?: number;
  /**
   * Bytes a connection may have queued for a slow reader before `backpressure` applies. A message
   * sent while nothing is queued is always accepted. Default 1 MiB.
   */
  maxBackpressure?: number;
  /**
   * What happens past `maxBackpressure`: `'close'` (default, close with 1008 "backpressure limit")
   * or `'drop'` (the message is not queued, `send()` returns false, the route's dropped counter goes up).
   */
  backpressure?: 'close' | 'drop';
  /**
   * What `send()` on a closing or closed connection does: `'ignore'` (default: returns false, writes
   * nothing, counted as `sentAfterClose` in `stats()`) or `'throw'` a `WebSocketClosedError` (opt-in;
   * `sendAsync()` then rejects). `ws` itself stopped throwing here in 7.0.
   */
  sendAfterClose?: 'throw' | 'ignore';
}
