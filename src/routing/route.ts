import type { Type } from '@nestjs/common';
import type { PerMessageDeflateOptions, WebSocketServer } from 'ws';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import { EchoHandler } from '../handler/echo.handler.js';
import type { WebSocketCloseException } from '../errors/websocket-close.exception.js';
import type {
  OriginPredicate,
  ProtocolSelector,
} from '../interfaces/websocket-route-options.interface.js';
import type { HandshakeGuard } from '../handshake/handshake.guard.js';
import type { HandlerServices } from '../handler/handler-route.interface.js';
import type { WebSocketTrafficStats } from '../interfaces/websocket-stats.interface.js';
import { emptyTrafficStats as emptyCounters } from '../registry/traffic-stats.js';

/** Route options after the module's defaults were applied: what the runtime reads. */
export interface ResolvedRouteOptions {
  maxPayload: number;
  closeTimeoutMs: number;
  perMessageDeflate: false | PerMessageDeflateOptions;
  allowedOrigins: OriginPredicate | undefined;
  protocols: readonly string[];
  requireProtocol: boolean;
  selectProtocol: ProtocolSelector | undefined;
  maxConnections: number;
  handshakeTimeoutMs: number;
  heartbeatMs: number;
  idleTimeoutMs: number;
  maxBackpressure: number;
  backpressure: 'close' | 'drop';
  sendAfterClose: 'throw' | 'ignore';
}

/** Counters of one route, read by `WebSocketRegistry.stats()`. */
export type RouteCounters = WebSocketTrafficStats;

/**
 * What the route's exception filters made of a hook's error: the close to apply, `true` when a
 * filter handled it (the connection stays open), undefined when none did.
 */
export type ErrorMapping = WebSocketCloseException | true | undefined;

/** What the explorer hands a route when it builds it at bootstrap. */
export interface RouteInit {
  path: string;
  /** The controller instance and the name of its decorated method. */
  controller: object;
  methodName: string | symbol;
  description: string;
  handlerType: Type<WebSocketHandler>;
  options: ResolvedRouteOptions;
  server: WebSocketServer;
  guard: HandshakeGuard | null;
  createHandler: () => WebSocketHandler;
  invoke: (handler: WebSocketHandler) => unknown;
  /** Runs the route's exception filters on a hook's error (`data`: the message being handled). */
  mapError: (
    error: unknown,
    handler: WebSocketHandler,
    data?: unknown,
  ) => ErrorMapping | Promise<ErrorMapping>;
  /** Opens, tracks and frees the route's connections. */
  lifecycle: HandlerServices;
}

/**
 * One `@WebSocketRoute()` as it runs: built once at bootstrap by the explorer and shared by all of
 * the route's connections (a handler reaches it through one pointer).
 */
export class Route {
  readonly path: string;
  /** The controller instance whose method declares the route. */
  readonly controller: object;
  readonly methodName: string | symbol;
  /** `Controller.method`, for messages. */
  readonly description: string;
  readonly handlerType: Type<WebSocketHandler>;
  readonly options: ResolvedRouteOptions;
  /** `ws` server in `noServer` mode with this route's payload, compression and protocol options. */
  readonly server: WebSocketServer;
  /**
   * Runs the route's Nest guards on the standalone port; null when none apply (the handshake then
   * stays synchronous), and always on an HTTP app, where Nest runs them as for a `GET` route.
   */
  readonly guard: HandshakeGuard | null;
  /** A new handler with its dependencies (resolved once per route). */
  readonly createHandler: () => WebSocketHandler;
  /** Calls the decorated controller method with the handler. */
  readonly invoke: (handler: WebSocketHandler) => unknown;
  readonly mapError: RouteInit['mapError'];
  /**
   * The handler echoes with `EchoHandler`'s own `onMessage`: a message can then go back as the
   * Buffer it came in, without decoding text to a string and encoding it again.
   */
  readonly echoes: boolean;
  readonly lifecycle: HandlerServices;
  readonly counters: RouteCounters = emptyCounters();

  constructor(init: RouteInit) {
    this.path = init.path;
    this.controller = init.controller;
    this.methodName = init.methodName;
    this.description = init.description;
    this.handlerType = init.handlerType;
    this.options = init.options;
    this.server = init.server;
    this.guard = init.guard;
    this.createHandler = init.createHandler;
    this.invoke = init.invoke;
    this.mapError = init.mapError;
    this.lifecycle = init.lifecycle;
    this.echoes = init.handlerType.prototype.onMessage === EchoHandler.prototype.onMessage;
  }
}
