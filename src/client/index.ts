/**
 * `nestjs-ws-routes/client`: a WebSocket for browsers and Node 20+ that reconnects, honours the
 * library's close codes and resumes its topics. No Nest, no Node built-ins.
 *
 * @packageDocumentation
 * @module nestjs-ws-routes/client
 */
export {
  ReconnectingWebSocket,
  type ConnectionState,
  type SendData,
} from './reconnecting-websocket.js';
export type { ReconnectingWebSocketOptions } from './client.options.js';
export type { SinceEncoder, UrlSource } from './attempt-url.js';
export type { BackoffOptions } from './backoff.js';
export {
  FinalCloseEvent,
  LostEvent,
  ReconnectingEvent,
  StreamMessageEvent,
  type CloseCause,
  type CloseInfo,
  type ReconnectingWebSocketEventMap,
} from './client.events.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket-like.js';
export { WebSocketCloseCode, isReconnectCloseCode } from '../close-codes.js';
export type { StreamEnvelope } from '../resume.wire.js';
export type { StreamPosition } from '../interfaces/position.interface.js';
