/** Texts of the errors users can hit; docs/options-and-errors.md explains each with its fix. */
export const duplicateRouteMessage = (path: string, first: string, second: string) =>
  `Two WebSocket routes have the full path "${path}": ${first} and ${second}. ` +
  'Give one of them another path.';

export const routeAppliedTwiceMessage = (method: string) =>
  `@WebSocketRoute() is applied twice to ${method}: a method declares one WebSocket route. ` +
  'Declare the other path on a method of its own.';

export const handlerFailedMessage = (path: string, id: string) =>
  `WebSocket handler of route "${path}" (connection ${id}) failed; closing it with 1011`;

export const onCloseFailedMessage = (path: string, id: string) =>
  `onClose of the WebSocket handler of route "${path}" (connection ${id}) failed; the connection had closed already`;

export const guardFailedMessage = (path: string) =>
  `A guard of WebSocket route "${path}" threw; the handshake was answered 500`;

export const originCheckFailedMessage = (origin: string | undefined) =>
  `An allowedOrigins predicate threw for Origin "${origin ?? ''}"; the handshake was answered 500`;

export const handshakeCheckFailedMessage = (path: string) =>
  `The selectProtocol of WebSocket route "${path}" threw; the handshake was answered 500`;

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

export const requestScopedHandlerMessage = (handler: string, route: string, providers: string[]) =>
  `${handler}, the handler of WebSocket route ${route}, injects ` +
  `${providers.length ? providers.join(', ') : 'a provider'}, which is request-scoped ` +
  '(Scope.REQUEST, or transient with a request-scoped dependency); a handler is built from ' +
  'dependencies resolved once, at bootstrap. Make that provider default-scoped, or inject ' +
  `ModuleRef and resolve it per connection with moduleRef.resolve(${providers[0] ?? 'Provider'}) in onOpen().`;

export const handlerDependenciesMessage = (handler: string, route: string, detail: string) =>
  `Cannot build ${handler}, the handler of WebSocket route ${route}: ${detail}`;

export const notAHandlerMessage = (route: string, handler: unknown) =>
  `WebSocket route ${route} names ${typeof handler === 'function' ? handler.name : String(handler)} ` +
  'as its handler, which is not a class extending WebSocketHandler: pass the handler class ' +
  '(undefined usually means an import cycle: move the handler to a file of its own).';

export const invalidOptionMessage = (
  route: string,
  option: string,
  value: unknown,
  expected: string,
) =>
  `WebSocket route ${route}: option ${option} is ${optionValue(value)}; ` +
  `expected ${expected}. Fix it in @WebSocketRoute() or in WsModule.forRoot().`;

export const listenFailedMessage = (port: number, host: string | undefined, detail: string) =>
  `The WebSocket server of WsModule.forRoot({ port: ${port} }) cannot listen on ` +
  `${host ?? 'all interfaces'}: ${detail}. Choose another port, or 0 and read WsServer.address().port.`;

/** An option's value as the user wrote it: `NaN` and `Infinity` stay themselves (JSON says `null`). */
export const optionValue = (value: unknown) =>
  typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
