import { Injectable, Logger } from '@nestjs/common';
import { ExternalContextCreator, ModuleRef } from '@nestjs/core';
import { WebSocket } from 'ws';
import { WebSocketCloseException } from '../errors/websocket-close.exception.js';
import {
  kAlive,
  kClosed,
  kCloseSent,
  kDrain,
  kDrainPending,
  kIdleTicks,
  kContext,
  kId,
  kQueue,
  kSocket,
  kStreams,
  kForward,
} from '../handler/handler.symbols.js';
import type {
  WebSocketHandler,
  WebSocketMessage,
  WebSocketRequest,
} from '../handler/websocket-handler.js';
import { createHandlerFactory } from '../handler/handler.factory.js';
import type { AcceptHandshake } from '../interfaces/accepted-handshake.interface.js';
import { WebSocketRegistry } from '../registry/websocket.registry.js';
import { routeLabel, type Route } from '../routing/route.js';
import {
  handlerFailedMessage,
  onCloseFailedMessage,
  upgradeFailedMessage,
} from '../ws.messages.js';
import { WebSocketCloseCode } from '../close-codes.js';
import { sentCloseCodeOf } from '../internals/ws.internals.js';
import { settleCall } from '../util/async.js';
import { stackOf } from '../util/errors.js';
import { createErrorMapper, type ErrorMapping } from './error-mapper.js';
import { Heartbeat } from './heartbeat.js';
import { RouteConnections, type ConnectionHooks } from './route-connections.js';

/** The handler of a `ws` socket, set once when the connection opens. */
const kHandler = Symbol('handler');

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * From an accepted handshake to `onClose`: `ws`'s `handleUpgrade` (the 101) on the route's server,
 * then creates the handler and sets it on the socket synchronously (so no frame is lost), runs the
 * controller method and `onOpen()` while holding messages that arrive meanwhile, tracks the
 * connection, and routes every hook error.
 *
 * The socket's events reach shared functions through `HandlerSocket`'s `emit`: no listener and no
 * closure per connection.
 */
@Injectable()
export class ConnectionLifecycle {
  private readonly logger = new Logger('WebSocketRoute');
  // The outcomes of settleCall(), bound once: no closure per call.
  private readonly hookFailed = (handler: WebSocketHandler, error: unknown) =>
    this.handleError(handler, error);
  private readonly openFailed = (handler: WebSocketHandler, error: unknown) =>
    this.failOpening(handler, error);
  private readonly invoked = (handler: WebSocketHandler) => this.runOnOpen(handler);
  private readonly closeFailed = (handler: WebSocketHandler, error: unknown) =>
    this.logCloseError(handler, error);
  readonly heartbeat = new Heartbeat();
  /** What each route's connections share, built at bootstrap by `prepare()`. */
  private readonly routes = new Map<Route, RouteConnections>();

  constructor(
    readonly registry: WebSocketRegistry,
    private readonly contextCreator: ExternalContextCreator,
  ) {}

  /**
   * Builds each route's `ws` server, handler factory (its dependencies resolved in the module that
   * declares the route) and exception filters. Throws, naming the route, when a handler's
   * dependencies cannot be resolved.
   */
  async prepare(routes: readonly Route[]): Promise<void> {
    for (const route of routes) {
      const moduleRef = route.module.getProviderByKey<ModuleRef>(ModuleRef).instance;
      const label = routeLabel(route.path, route.description);
      this.routes.set(
        route,
        new RouteConnections({
          route,
          createHandler: await createHandlerFactory(route.handlerType, moduleRef, label),
          mapError: createErrorMapper(this.contextCreator, route),
          registry: this.registry,
          lifecycle: this,
          socketClass: HandlerSocket,
        }),
      );
    }
  }

  /**
   * The end of the handshake line: `ws` answers 101 on the route's server and the connection
   * opens. `platformRequest`: the platform's request object (see `WebSocketHandler.request`).
   */
  readonly accept: AcceptHandshake<Route> = (
    route,
    request,
    socket,
    head,
    params,
    platformRequest,
    protocol,
    headerLines,
  ) => {
    const connections = this.routes.get(route)!;
    connections.upgrade(request, socket, head, protocol, headerLines, (webSocket) => {
      try {
        this.open(connections, webSocket, platformRequest as WebSocketRequest, params);
      } catch (error) {
        // A handler constructor threw: nothing may escape into the server's 'upgrade' event.
        this.logger.error(upgradeFailedMessage(route.path), stackOf(error));
        webSocket.close(WebSocketCloseCode.INTERNAL_ERROR, 'Internal error');
      }
    });
  };

  /** `request`: the platform's request object (see `WebSocketHandler.request`). */
  open(
    route: RouteConnections,
    socket: WebSocket,
    request: WebSocketRequest,
    params: Record<string, string>,
  ): WebSocketHandler {
    const handler = route.createHandler();
    const identity = handler as Writable<Pick<WebSocketHandler, 'request' | 'path' | 'params'>>;
    // made on first read (`handler.id`); a constructor may have read it already. A subclass's own
    // `id` (a class field) would hide it: the library's id is the connection's, as it always was.
    if (handler[kId] === undefined) handler[kId] = undefined;
    if (Object.hasOwn(handler, 'id')) delete (handler as { id?: unknown }).id;
    identity.request = request;
    identity.path = route.path;
    identity.params = params;
    handler[kSocket] = socket;
    handler[kContext] = route;
    handler[kQueue] = [];
    handler[kAlive] = true;
    handler[kIdleTicks] = 0;
    // the lazily used slots too, so every handler of a class has one shape
    handler[kStreams] = undefined;
    handler[kDrain] = undefined;
    handler[kDrainPending] = undefined;
    handler[kClosed] = undefined;
    handler[kCloseSent] = undefined;
    // From now on the socket's events reach the handler (see `HandlerSocket`).
    (socket as HandlerSocket)[kHandler] = handler;
    route.counters.open++;
    this.registry.add(handler);
    this.heartbeat.add(handler, route.options.heartbeatMs, route.options.idleTimeoutMs);
    this.start(handler);
    return handler;
  }

  /**
   * A hook failed. A `WebSocketCloseException` closes with its code and reason. Anything else goes
   * to the route's exception filters (`@UseFilters()` on the method, the controller, global), which
   * may map it to a `WebSocketCloseException` or handle it; what no filter handled is logged with
   * the route and connection id and closes with 1011. `data` is the message being handled, if any.
   */
  handleError(handler: WebSocketHandler, error: unknown, data?: WebSocketMessage): void {
    if (error instanceof WebSocketCloseException) {
      this.closeWith(handler, error);
      return;
    }
    settleCall(
      handler,
      mapError,
      { error, data },
      (_, mapped) => this.applyMapping(handler, error, mapped),
      (_, filterError) => this.fail(handler, filterError),
    );
  }

  /** Runs a hook other than `onMessage`, routing a throw or a rejection to `handleError`. */
  runHook<T>(handler: WebSocketHandler, hook: ((arg: T) => unknown) | undefined, arg?: T): void {
    settleCall(handler, hook, arg as T, undefined, this.hookFailed);
  }

  private applyMapping(handler: WebSocketHandler, error: unknown, mapped: ErrorMapping): void {
    if (mapped === true) return;
    if (mapped) this.closeWith(handler, mapped);
    else this.fail(handler, error);
  }

  private closeWith(handler: WebSocketHandler, close: WebSocketCloseException): void {
    try {
      handler.close(close.code, close.reason);
    } catch (invalid) {
      // e.g. WebSocketCloseException(1006): say so, and close the way any failure does
      this.fail(handler, invalid);
    }
  }

  /** Logs an unhandled error with the route and connection, and closes with 1011. */
  private fail(handler: WebSocketHandler, error: unknown): void {
    this.logger.error(handlerFailedMessage(handler.path, handler.id), stackOf(error));
    if (handler.isOpen) handler.close(WebSocketCloseCode.INTERNAL_ERROR, 'Internal error');
  }

  /** Shutdown: closes every connection with 1001 and waits (bounded by `closeTimeoutMs`) until all have closed. */
  closeAll(code: number, reason: string): Promise<void> {
    return this.registry.closeAll(code, reason);
  }

  /** Frees what shutdown left: terminates remaining sockets and stops the timers. */
  dispose(): void {
    for (const handler of this.registry) handler.terminate();
    this.heartbeat.stop();
  }

  private start(handler: WebSocketHandler): void {
    settleCall(handler, invokeRoute, undefined, this.invoked, this.openFailed);
  }

  private runOnOpen(handler: WebSocketHandler): void {
    if (!handler.isOpen) return;
    settleCall(handler, handler.onOpen, undefined, flushQueue, this.openFailed);
  }

  private failOpening(handler: WebSocketHandler, error: unknown): void {
    handler[kQueue] = undefined;
    this.handleError(handler, error);
  }

  /** @internal called on the socket's `close` event. */
  release(handler: WebSocketHandler, code: number, reason: string): void {
    // The close this server started, not the peer's answer to it (or 1006 when it gave none).
    const sent = handler[kCloseSent];
    if (sent !== undefined) ({ code, reason } = sent);
    const route = routeOf(handler);
    const event = { code, reason };
    handler[kClosed] = event;
    handler[kQueue] = undefined;
    route.counters.open--;
    this.heartbeat.remove(handler, route.options.heartbeatMs, route.options.idleTimeoutMs);
    this.registry.remove(handler, code, reason);
    if (handler.onClose) settleCall(handler, callOnClose, event, undefined, this.closeFailed);
    const streams = handler[kStreams];
    if (streams) {
      streams.messages?.complete();
      streams.closed?.next(event);
      streams.closed?.complete();
    }
  }

  private logCloseError(handler: WebSocketHandler, error: unknown): void {
    this.logger.error(onCloseFailedMessage(handler.path, handler.id), stackOf(error));
  }
}

/** The handler sees its route through `HandlerContext`; the lifecycle set it, and knows what it is. */
function routeOf(handler: WebSocketHandler): RouteConnections {
  return handler[kContext] as RouteConnections;
}

/** The lifecycle that opened the handler. */
function lifecycleOf(handler: WebSocketHandler): ConnectionHooks {
  return routeOf(handler).lifecycle;
}

function invokeRoute(this: WebSocketHandler): unknown {
  return routeOf(this).invoke(this);
}

function mapError(
  this: WebSocketHandler,
  { error, data }: { error: unknown; data?: WebSocketMessage },
): ErrorMapping | Promise<ErrorMapping> {
  return routeOf(this).mapError(error, this, data);
}

function callOnClose(
  this: WebSocketHandler,
  { code, reason }: { code: number; reason: string },
): unknown {
  return this.onClose?.(code, reason);
}

function messageFailed(handler: WebSocketHandler, error: unknown, message: WebSocketMessage): void {
  lifecycleOf(handler).handleError(handler, error, message);
}

function flushQueue(handler: WebSocketHandler): void {
  const queue = handler[kQueue];
  handler[kQueue] = undefined;
  if (queue) for (const message of queue) deliver(handler, message);
}

function deliver(handler: WebSocketHandler, message: WebSocketMessage): void {
  if (!handler.isOpen) return;
  settleCall(handler, handler.onMessage, message, undefined, messageFailed);
  handler[kStreams]?.messages?.next(message);
}

function onSocketMessage(handler: WebSocketHandler, data: Buffer, isBinary: boolean): void {
  const route = routeOf(handler);
  route.counters.messagesIn++;
  route.counters.bytesIn += data.length;
  // two stores, no clock read: the heartbeat and idle wheels do the timekeeping
  handler[kAlive] = true;
  handler[kIdleTicks] = 0;
  const queue = handler[kQueue];
  if (route.echoes && queue === undefined && handler[kStreams] === undefined) {
    if (handler.isOpen) handler[kForward](data, isBinary);
    return;
  }
  const message = isBinary ? data : data.toString();
  if (queue !== undefined) queue.push(message);
  else deliver(handler, message);
}

function onSocketClose(handler: WebSocketHandler, code: number, reason: Buffer): void {
  // most closes carry no reason: no decode
  lifecycleOf(handler).release(handler, code, reason.length === 0 ? '' : reason.toString());
}

function onSocketError(handler: WebSocketHandler, error: Error): void {
  // `ws` refused a frame and sent a close frame with this code before telling us.
  if (handler[kCloseSent] === undefined) {
    const code = sentCloseCodeOf(error);
    if (code !== undefined) handler[kCloseSent] = { code, reason: '' };
  }
  lifecycleOf(handler).runHook(handler, handler.onError, error);
}

function onSocketPong(handler: WebSocketHandler, data: Buffer): void {
  handler[kAlive] = true;
  if (handler.onPong !== undefined) lifecycleOf(handler).runHook(handler, handler.onPong, data);
}

/**
 * The `WebSocket` class of the routes' `ws` servers (their `WebSocket` option). The events `ws`
 * documents for a server-side socket (`message`, `close`, `error`, `ping`, `pong`, with its
 * arguments) go straight to the handler set on it when the connection opens, as a switch: no
 * listener is registered per connection. Listeners added with `on()` still get every event, after
 * the handler. An `error` with neither a handler nor a listener is dropped, where `EventEmitter`
 * would throw it out of `ws`: the only socket without a handler is one whose handler could not be
 * created, closing with 1011 already.
 */
class HandlerSocket extends WebSocket {
  declare [kHandler]: WebSocketHandler | undefined;

  // `ws` emits with at most two arguments; `arguments` goes on as it is to other listeners.
  override emit(event: string | symbol, a?: unknown, b?: unknown): boolean {
    const handler = this[kHandler];
    let handled = false;
    if (handler !== undefined) {
      handled = true;
      switch (event) {
        case 'message':
          onSocketMessage(handler, a as Buffer, b as boolean);
          break;
        case 'close':
          onSocketClose(handler, a as number, b as Buffer);
          break;
        case 'error':
          onSocketError(handler, a as Error);
          break;
        case 'pong':
          onSocketPong(handler, a as Buffer);
          break;
        case 'ping':
          // a client's ping shows it is alive too; `ws` answered it already
          handler[kAlive] = true;
          break;
        default:
          handled = false;
      }
    }
    if (this.listenerCount(event) === 0) return handled;
    // oxlint-disable-next-line prefer-rest-params
    return Reflect.apply(WebSocket.prototype.emit, this, arguments) as boolean;
  }
}
