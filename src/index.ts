/**
 * `nestjs-ws-routes`: raw RFC 6455 WebSocket routes for NestJS, with handlers per connection, Nest
 * guards at the handshake, a registry, broadcast, topics, history and presence.
 *
 * @packageDocumentation
 * @module nestjs-ws-routes
 */
export { WsModule } from './ws.module.js';
export {
  WebSocketRoute,
  type WebSocketRouteMetadata,
} from './decorators/websocket-route.decorator.js';
export {
  WebSocketHandler,
  isSendableCloseCode,
  type WebSocketMessage,
  type WebSocketCloseEvent,
  type WebSocketRequest,
} from './handler/websocket-handler.js';
export { EchoHandler } from './handler/echo.handler.js';
export {
  WebSocketRegistry,
  type BroadcastOptions,
  type PublishOptions,
  type WebSocketDisconnection,
} from './registry/websocket.registry.js';
export type {
  WebSocketStats,
  WebSocketTrafficStats,
} from './interfaces/websocket-stats.interface.js';
export type {
  WebSocketBroker,
  BrokerMessage,
  BrokerStats,
  StreamLimits,
} from './interfaces/websocket-broker.interface.js';
export { InProcessBroker } from './broker/in-process.broker.js';
export { RedisBroker } from './broker/redis.broker.js';
export type { RedisBrokerOptions } from './broker/redis-broker.options.js';
export type { RedisClusterNode } from './redis/ioredis.client.js';
export { encodeBrokerMessage, decodeBrokerMessage } from './broker/broker-message.codec.js';
export type {
  WebSocketPresence,
  PresenceMember,
  PresenceInfo,
  PresenceEvent,
  PresenceStats,
} from './interfaces/presence.interface.js';
export { InProcessPresence } from './presence/in-process.presence.js';
export { RedisPresence, type RedisPresenceOptions } from './presence/redis.presence.js';
export type { WsModuleOptions } from './interfaces/ws-module-options.interface.js';
export type {
  StreamPosition,
  StreamPublication,
  StreamRead,
  SubscribeOptions,
  RecoveryResult,
  RecoveryFailureReason,
  ContinuityLoss,
} from './interfaces/stream-position.interface.js';
export type {
  HistoryOptions,
  TopicHistoryOptions,
} from './interfaces/topic-history-options.interface.js';
export type { WsServerOptions } from './interfaces/ws-server-options.interface.js';
export { WsServer } from './server/ws-server.js';
export {
  serveWebSockets,
  type ServeWebSocketsOptions,
  type ServedWebSockets,
} from './serve-websockets.js';
export type {
  WebSocketRouteOptions,
  OriginPredicate,
  ProtocolSelector,
} from './interfaces/websocket-route-options.interface.js';
export { WebSocketCloseCode, isReconnectCloseCode } from './close-codes.js';
export { streamEnvelope, subscribedEnvelope, parseSince } from './history/stream-envelope.js';
export { WebSocketCloseException } from './errors/websocket-close.exception.js';
export { WebSocketClosedError } from './errors/websocket-closed.error.js';
export { InvalidCloseCodeError } from './errors/invalid-close-code.error.js';
export { isWebSocketHandshake } from './handshake/is-websocket-handshake.js';
