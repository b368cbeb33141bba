import { HandshakeRejection } from './errors/handshake-rejection.js';

/**
 * Every answer to a refused handshake: its status, reason and headers (`Retry-After`, `Allow`,
 * ...). docs/options-and-errors.md explains each; tests import the texts from here.
 */

/** Reason of the `400` for a handshake whose `Connection` header lacks the `Upgrade` token. */
export const connectionNotUpgradeReason = 'Connection header must include "Upgrade"';

/** Reason of the `503` when middleware and guards did not let a handshake through in time. */
export const handshakeTimedOutReason = 'Handshake timed out';

/** Reason of the `403` for an `Origin` whose host is not the request's (the default origin rule). */
export const foreignOriginReason = (origin: string, host: string | undefined) =>
  `Origin ${origin} is not allowed: its host differs from this server's host ` +
  `"${host ?? ''}". To allow it, add it to the route's allowedOrigins option: ` +
  `allowedOrigins: ['${origin}']`;

/** Reason of the `403` for an `Origin` that the route's `allowedOrigins` refuses. */
export const originNotAllowedReason = (origin: string | undefined) =>
  `Origin ${origin ?? '(none)'} is not allowed by the route's allowedOrigins option`;

/**
 * Reason of the `503` (with `Retry-After`) answered to every handshake once shutdown has begun,
 * including those still inside a route's guards when it began.
 */
export const shuttingDownReason = 'server is shutting down';

/** Reason of the `400` answered to a handshake whose `:param` segment is not valid percent-encoding. */
export const malformedParamMessage = (name: string) =>
  `The :${name} segment of the request path is not valid percent-encoding`;

/** Reason of the `503` when a route or the server is at its connection limit. */
export const tooManyConnectionsReason = 'Too many WebSocket connections';

/** Reason of the `404` on the standalone port for a path no route takes. */
export const noRouteReason = 'No WebSocket route at this path';

/** Seconds a client should wait before it retries a handshake refused by a limit or by shutdown. */
export const RETRY_AFTER_BUSY_S = '5';
/** Seconds a client should wait before it retries a handshake that timed out. */
export const RETRY_AFTER_TIMEOUT_S = '1';

/** Nest's answer to an unknown error (a guard or an origin predicate threw): no detail leaks. */
export function internalErrorRejection(): HandshakeRejection {
  return new HandshakeRejection(
    500,
    'Internal server error',
    {},
    { statusCode: 500, message: 'Internal server error' },
  );
}

/** The answer to a handshake (or a request still arriving) once shutdown has begun. */
export function shuttingDownRejection(): HandshakeRejection {
  return new HandshakeRejection(503, shuttingDownReason, { 'Retry-After': RETRY_AFTER_BUSY_S });
}

/** A route's `maxConnections` or the module's `maxTotalConnections` is reached. */
export function tooManyConnectionsRejection(): HandshakeRejection {
  return new HandshakeRejection(503, tooManyConnectionsReason, {
    'Retry-After': RETRY_AFTER_BUSY_S,
  });
}

/** Middleware, hooks or guards did not let the handshake through within `handshakeTimeoutMs`. */
export function handshakeTimedOutRejection(): HandshakeRejection {
  return new HandshakeRejection(503, handshakeTimedOutReason, {
    'Retry-After': RETRY_AFTER_TIMEOUT_S,
  });
}

/** RFC 6455 4.2.1 and the request line: why an upgrade request is not an opening handshake. */
export const notGetRejection = () =>
  new HandshakeRejection(405, 'WebSocket handshakes must use GET', { Allow: 'GET' });
export const oldHttpRejection = () =>
  new HandshakeRejection(400, 'WebSocket handshakes need HTTP/1.1 or later');
export const missingHostRejection = () => new HandshakeRejection(400, 'Missing Host header');
export const repeatedHostRejection = () => new HandshakeRejection(400, 'Repeated Host header');
export const upgradeNotWebSocketRejection = () =>
  new HandshakeRejection(400, 'Upgrade header must be "websocket"');
export const connectionNotUpgradeRejection = () =>
  new HandshakeRejection(400, connectionNotUpgradeReason);
export const unsupportedVersionRejection = () =>
  new HandshakeRejection(426, 'Unsupported WebSocket version; this server speaks 13', {
    'Sec-WebSocket-Version': '13',
  });
export const badKeyRejection = () =>
  new HandshakeRejection(400, 'Sec-WebSocket-Key must be the base64 of 16 bytes');
export const malformedExtensionsRejection = () =>
  new HandshakeRejection(400, 'Malformed Sec-WebSocket-Extensions header');
export const malformedProtocolsRejection = () =>
  new HandshakeRejection(400, 'Malformed Sec-WebSocket-Protocol header');
export const noProtocolRejection = (protocols: readonly string[]) =>
  new HandshakeRejection(400, 'No supported subprotocol offered', {
    'Sec-WebSocket-Protocol': protocols.join(', '),
  });
export const originRefusedRejection = (reason: string) => new HandshakeRejection(403, reason);
export const malformedParamRejection = (name: string) =>
  new HandshakeRejection(400, malformedParamMessage(name));
export const noRouteRejection = () => new HandshakeRejection(404, noRouteReason);
