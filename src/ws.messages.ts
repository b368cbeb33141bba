/** Texts of the errors users can hit; the README's "Errors" section explains each with its fix. */
export const duplicateRouteMessage = (path: string, first: string, second: string) =>
  `Two WebSocket routes have the full path "${path}": ${first} and ${second}. ` +
  'Give one of them another path.';

export const handlerFailedMessage = (path: string, id: string) =>
  `WebSocket handler of route "${path}" (connection ${id}) failed; closing it with 1011`;

export const guardFailedMessage = (path: string) =>
  `A guard of WebSocket route "${path}" threw; the handshake was answered 500`;

export const upgradeFailedMessage = (path: string) =>
  `Opening a WebSocket connection on route "${path}" failed; it was closed`;

export const invalidCloseCodeMessage = (code: unknown) =>
  `Invalid WebSocket close code ${String(code)}: use 1000, 1001, 1003, 1007-1009, 1011-1014 or 3000-4999`;

export const closeReasonTooLongMessage = (bytes: number) =>
  `WebSocket close reason is ${bytes} bytes in UTF-8; the limit is 123`;

export const sendAfterCloseMessage = (path: string, id: string) =>
  `send() on WebSocket connection ${id} of route "${path}", which is already closing or closed`;

export const noServerMessage = (routes: number) =>
  `${routes} WebSocket route(s) found, but there is no HTTP server to serve them from: ` +
  'give WsModule.forRoot() a port, or create the app with NestFactory.create()';

export const dispatchFailedMessage = (url: string | undefined) =>
  `Dispatching the WebSocket handshake for "${url ?? ''}" into the app threw; the socket was closed`;

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
