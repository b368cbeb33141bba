import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import type { HandlerContext } from '../handler/handler-context.interface.js';
import type { WebSocketHandler, WebSocketMessage } from '../handler/websocket-handler.js';
import type { ResolvedRouteOptions } from '../interfaces/resolved-route-options.interface.js';
import type { PresenceInfo } from '../interfaces/presence.interface.js';
import type { RecoveryResult, SubscribeOptions } from '../interfaces/stream-position.interface.js';
import type { WebSocketRegistry } from '../registry/websocket.registry.js';
import type { Route, RouteCounters } from '../routing/route.js';
import type { ErrorMapper } from './error-mapper.js';

/** What the socket's events call on the connection lifecycle (declared here: no file cycle). */
export interface ConnectionHooks {
  runHook<T>(handler: object, hook: ((arg: T) => unknown) | undefined, arg?: T): void;
  handleError(handler: WebSocketHandler, error: unknown, data?: WebSocketMessage): void;
  release(handler: WebSocketHandler, code: number, reason: string): void;
}

/** What the connection step builds for a route at bootstrap. */
export interface RouteConnectionsInit {
  route: Route;
  createHandler: () => WebSocketHandler;
  mapError: ErrorMapper;
  registry: WebSocketRegistry;
  lifecycle: ConnectionHooks;
  /** The `WebSocket` class `ws` builds for each connection (`ws`'s `WebSocket` option). */
  socketClass: typeof WebSocket;
}

/**
 * What the connections of one route share, built once at bootstrap: the route's `ws` server, its
 * handler factory and exception filters, and the `HandlerContext` every handler of the route points
 * to (one pointer per connection, no object per connection).
 */
export class RouteConnections implements HandlerContext {
  readonly route: Route;
  readonly path: string;
  readonly options: ResolvedRouteOptions;
  readonly counters: RouteCounters;
  /** See `Route.echoes`. */
  readonly echoes: boolean;
  /** `ws` server in `noServer` mode with this route's payload, compression and protocol options. */
  readonly server: WebSocketServer;
  /** A new handler with its dependencies (resolved once per route). */
  readonly createHandler: () => WebSocketHandler;
  readonly mapError: ErrorMapper;
  private readonly registry: WebSocketRegistry;
  /** The lifecycle that opens and frees the route's connections. */
  readonly lifecycle: ConnectionHooks;
  /**
   * The subprotocol and the `101`'s extra header lines of the handshake `ws` is completing: set
   * around `handleUpgrade()`, which reads them synchronously (`handleProtocols`, `headers`).
   */
  private protocol = '';
  private headerLines: string[] | undefined = undefined;

  constructor(init: RouteConnectionsInit) {
    const { route } = init;
    this.route = route;
    this.path = route.path;
    this.options = route.options;
    this.counters = route.counters;
    this.echoes = route.echoes;
    this.createHandler = init.createHandler;
    this.mapError = init.mapError;
    this.registry = init.registry;
    this.lifecycle = init.lifecycle;
    this.server = this.createServer(init.socketClass);
  }

  /** Calls the decorated controller method with the handler. */
  invoke(handler: WebSocketHandler): unknown {
    return this.route.declaredMethod.call(this.route.controller, handler);
  }

  /** `ws` answers 101 on the socket and hands the open `WebSocket` to `opened`. */
  upgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    protocol: string,
    headerLines: string[] | undefined,
    opened: (webSocket: WebSocket) => void,
  ): void {
    this.protocol = protocol;
    this.headerLines = headerLines;
    try {
      this.server.handleUpgrade(request, socket, head, opened);
    } finally {
      this.protocol = '';
      this.headerLines = undefined;
    }
  }

  subscribe(handler: object, topic: string, options?: SubscribeOptions): Promise<RecoveryResult> {
    return this.registry.subscribe(handler as WebSocketHandler, topic, options);
  }

  unsubscribe(handler: object, topic: string): void {
    this.registry.unsubscribe(handler as WebSocketHandler, topic);
  }

  joinPresence(handler: object, topic: string, info: PresenceInfo): Promise<void> {
    return this.registry.joinPresence(handler as WebSocketHandler, topic, info);
  }

  leavePresence(handler: object, topic: string): Promise<void> {
    return this.registry.leavePresence(handler as WebSocketHandler, topic);
  }

  runHook<T>(handler: object, hook: ((arg: T) => unknown) | undefined, arg?: T): void {
    this.lifecycle.runHook(handler, hook, arg);
  }

  identified(handler: object, id: string): void {
    this.registry.identified(handler as WebSocketHandler, id);
  }

  /**
   * `ws` does framing, masking, UTF-8 and permessage-deflate. The registry tracks clients, so `ws`
   * does not (`clientTracking: false`); the subprotocol was chosen by the handshake step.
   */
  private createServer(socketClass: typeof WebSocket): WebSocketServer {
    const { options } = this;
    // ws (8.23+) bounds the close handshake with its own timer per closing socket: `closeTimeout`
    // makes it `closeTimeoutMs`, so there is no second timer of ours. @types/ws 8.18 lacks it.
    const serverOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxPayload,
      perMessageDeflate: options.perMessageDeflate,
      allowSynchronousEvents: true,
      closeTimeout: options.closeTimeoutMs,
      handleProtocols: () => this.protocol || false,
      WebSocket: socketClass,
    };
    const server = new WebSocketServer(serverOptions);
    // The headers the app set for the 101 (e.g. a session's `Set-Cookie`); RFC 6455's stay ours.
    server.on('headers', (headers: string[]) => {
      if (this.headerLines !== undefined) headers.push(...this.headerLines);
    });
    return server;
  }
}
