/** Metadata key under which `@WebSocketRoute()` stores its route on a controller method. */
export const WEBSOCKET_ROUTE_METADATA = 'nestjs-ws-routes:route';

/** Property set on the upgrade request while the handshake guards run (see `isWebSocketHandshake`). */
export const WEBSOCKET_HANDSHAKE = Symbol.for('nestjs-ws-routes:handshake');

/**
 * The handshake in flight (a `PendingHandshake`), kept on the raw upgrade request while the platform
 * dispatches it: the route handler Nest calls for a WebSocket route finds it there, and the
 * platforms tell a handshake from a plain request by it. `Symbol.for`: two copies of the library
 * in one process agree on it.
 */
export const kPendingHandshake = Symbol.for('nestjs-ws-routes:pending-handshake');

/** The route constraint a WebSocket route carries on Fastify: it matches only upgrades we dispatch. */
export const WEBSOCKET_CONSTRAINT = { webSocketUpgrade: 'yes' } as const;

/** Defaults of the module and route options; the options table of docs/options-and-errors.md mirrors them. */
export const DEFAULT_OPTIONS = {
  maxPayload: 1024 * 1024,
  closeTimeoutMs: 5000,
  handshakeTimeoutMs: 10_000,
  heartbeatMs: 30_000,
  idleTimeoutMs: 0,
  maxBackpressure: 1024 * 1024,
  backpressure: 'close',
  perMessageDeflate: false,
  requireProtocol: false,
  sendAfterClose: 'ignore',
} as const;

/** Threshold below which permessage-deflate leaves a message uncompressed, when a route enables it with `true`. */
export const DEFAULT_DEFLATE_THRESHOLD = 1024;
