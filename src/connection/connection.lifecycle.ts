import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { WebSocketCloseException } from '../errors/websocket-close.exception.js';
import {
  kAlive,
  kCloseTimer,
  kLastMessageAt,
  kQueue,
  kRoute,
  kSocket,
  kStreams,
} from '../handler/handler.symbols.js';
import {
  isSendableCloseCode,
  type WebSocketHandler,
  type WebSocketMessage,
} from '../handler/websocket-handler.js';
import { WebSocketRegistry } from '../registry/websocket.registry.js';
import type { Route } from '../routing/route.js';
import { handlerFailedMessage } from '../ws.messages.js';
import { Heartbeat } from './heartbeat.js';

/** The handler of a `ws` socket, set once when the connection opens. */
const kHandler = Symbol('handler');
type BoundSocket = WebSocket & { [kHandler]: WebSocketHandler };

type SocketListener = (this: WebSocket, ...args: any[]) => void;
type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * From a completed upgrade to `onClose`: creates the handler, attaches the socket's listeners
 * synchronously (so no frame is lost), runs the controller method and `onOpen()` while holding
 * messages that arrive meanwhile, tracks the connection, and routes every hook error.
 *
 * The listeners are shared functions that find their handler on the socket: no closure per
 * connection.
 */
@Injectable()
export class ConnectionLifecycle {
  private readonly logger = new Logger('WebSocketRoute');
  readonly heartbeat = new Heartbeat();

  constructor(readonly registry: WebSocketRegistry) {}

  open(
    route: Route,
    socket: WebSocket,
    request: IncomingMessage,
    params: Record<string, string>,
  ): WebSocketHandler {
    const handler = route.createHandler();
    const identity = handler as Writable<
      Pick<WebSocketHandler, 'id' | 'request' | 'path' | 'params'>
    >;
    identity.id = randomUUID();
    identity.request = request;
    identity.path = route.path;
    identity.params = params;
    handler[kSocket] = socket;
    handler[kRoute] = route;
    handler[kQueue] = [];
    handler[kAlive] = true;
    handler[kLastMessageAt] = route.options.idleTimeoutMs > 0 ? Date.now() : 0;
    (socket as BoundSocket)[kHandler] = handler;
    socket.on('message', onSocketMessage as SocketListener);
    socket.on('close', onSocketClose as SocketListener);
    socket.on('error', onSocketError as SocketListener);
    socket.on('pong', onSocketPong as SocketListener);
    route.counters.open++;
    this.registry.add(handler);
    this.heartbeat.add(handler, route.options.heartbeatMs, route.options.idleTimeoutMs);
    this.start(handler);
    return handler;
  }

  /**
   * A hook failed: a `WebSocketCloseException` (possibly mapped by an exception filter) closes with
   * its code; anything else is logged with the route and connection and closes with 1011.
   */
  handleError(handler: WebSocketHandler, error: unknown): void {
    const route = handler[kRoute];
    let close = error instanceof WebSocketCloseException ? error : undefined;
    if (!close) {
      const mapped = this.runFilters(handler, error);
      if (mapped === true) return;
      close = mapped;
    }
    if (close && isSendableCloseCode(close.code)) {
      safely(() => handler.close(close.code, close.reason));
      return;
    }
    this.logger.error(handlerFailedMessage(route.path, handler.id), stackOf(error));
    if (handler.isOpen) handler.close(1011, 'Internal error');
  }

  private runFilters(
    handler: WebSocketHandler,
    error: unknown,
  ): WebSocketCloseException | true | undefined {
    try {
      return handler[kRoute].mapError(error, handler);
    } catch (filterError) {
      this.logger.error(handlerFailedMessage(handler.path, handler.id), stackOf(filterError));
      return undefined;
    }
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
    let result: unknown;
    try {
      result = handler[kRoute].invoke(handler);
    } catch (error) {
      this.failOpening(handler, error);
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        () => this.runOnOpen(handler),
        (error: unknown) => this.failOpening(handler, error),
      );
    } else {
      this.runOnOpen(handler);
    }
  }

  private runOnOpen(handler: WebSocketHandler): void {
    if (!handler.isOpen) return;
    let result: unknown;
    try {
      result = handler.onOpen?.();
    } catch (error) {
      this.failOpening(handler, error);
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        () => flushQueue(handler),
        (error: unknown) => this.failOpening(handler, error),
      );
    } else {
      flushQueue(handler);
    }
  }

  private failOpening(handler: WebSocketHandler, error: unknown): void {
    handler[kQueue] = undefined;
    this.handleError(handler, error);
  }

  /** @internal called by the socket's close listener. */
  release(handler: WebSocketHandler, code: number, reason: string): void {
    const route = handler[kRoute];
    clearTimeout(handler[kCloseTimer]);
    handler[kQueue] = undefined;
    route.counters.open--;
    this.heartbeat.remove(handler, route.options.heartbeatMs, route.options.idleTimeoutMs);
    this.registry.remove(handler, code, reason);
    if (handler.onClose) {
      try {
        const result = handler.onClose(code, reason);
        if (isPromiseLike(result))
          result.then(undefined, (error: unknown) => this.logCloseError(handler, error));
      } catch (error) {
        this.logCloseError(handler, error);
      }
    }
    const streams = handler[kStreams];
    if (streams) {
      streams.messages?.complete();
      streams.closed?.next({ code, reason });
      streams.closed?.complete();
    }
  }

  private logCloseError(handler: WebSocketHandler, error: unknown): void {
    this.logger.error(handlerFailedMessage(handler.path, handler.id), stackOf(error));
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function safely<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch {
    return undefined;
  }
}

function flushQueue(handler: WebSocketHandler): void {
  const queue = handler[kQueue];
  handler[kQueue] = undefined;
  if (queue) for (const message of queue) deliver(handler, message);
}

function deliver(handler: WebSocketHandler, message: WebSocketMessage): void {
  if (!handler.isOpen) return;
  if (handler.onMessage !== undefined) {
    try {
      const result = handler.onMessage(message);
      if (result !== undefined && isPromiseLike(result)) {
        result.then(undefined, (error: unknown) =>
          handler[kRoute].lifecycle.handleError(handler, error),
        );
      }
    } catch (error) {
      handler[kRoute].lifecycle.handleError(handler, error);
    }
  }
  handler[kStreams]?.messages?.next(message);
}

function onSocketMessage(this: BoundSocket, data: Buffer, isBinary: boolean): void {
  const handler = this[kHandler];
  const route = handler[kRoute];
  route.counters.messagesIn++;
  route.counters.bytesIn += data.length;
  handler[kAlive] = true;
  if (route.options.idleTimeoutMs > 0) handler[kLastMessageAt] = Date.now();
  const message = isBinary ? data : data.toString();
  const queue = handler[kQueue];
  if (queue !== undefined) queue.push(message);
  else deliver(handler, message);
}

function onSocketClose(this: BoundSocket, code: number, reason: Buffer): void {
  const handler = this[kHandler];
  handler[kRoute].lifecycle.release(handler, code, reason.toString());
}

function onSocketError(this: BoundSocket, error: Error): void {
  const handler = this[kHandler];
  if (!handler.onError) return;
  try {
    const result = handler.onError(error);
    if (isPromiseLike(result)) result.then(undefined, () => undefined);
  } catch {
    // the socket is already failing; ws closes it after this event
  }
}

function onSocketPong(this: BoundSocket, data: Buffer): void {
  const handler = this[kHandler];
  handler[kAlive] = true;
  if (!handler.onPong) return;
  try {
    const result = handler.onPong(data);
    if (isPromiseLike(result))
      result.then(undefined, (error: unknown) =>
        handler[kRoute].lifecycle.handleError(handler, error),
      );
  } catch (error) {
    handler[kRoute].lifecycle.handleError(handler, error);
  }
}
