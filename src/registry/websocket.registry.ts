import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type {
  WebSocketCloseEvent,
  WebSocketHandler,
  WebSocketMessage,
} from '../handler/websocket-handler.js';

/** Options of `WebSocketRegistry.broadcast()`. */
export interface BroadcastOptions {
  /** Only the connections of the route with this full path pattern (e.g. `'/chat/:room'`). */
  path?: string;
  /** Leave out this connection (e.g. the sender). */
  except?: WebSocketHandler;
}

/** A connection that closed, as `disconnections$` reports it. */
export interface WebSocketDisconnection extends WebSocketCloseEvent {
  handler: WebSocketHandler;
}

/**
 * Every live WebSocket connection of the application (ws4py's manager): look them up, count them,
 * broadcast to them. Inject it anywhere. A handler is added once its handshake succeeded and
 * removed when it has closed.
 *
 * It is iterable: `for (const handler of registry) ...`.
 */
@Injectable()
export class WebSocketRegistry implements Iterable<WebSocketHandler> {
  private readonly handlers = new Map<string, WebSocketHandler>();
  private readonly byRoute = new Map<string, Set<WebSocketHandler>>();
  private readonly emptyWaiters: (() => void)[] = [];
  private opened?: Subject<WebSocketHandler>;
  private closed?: Subject<WebSocketDisconnection>;

  /** Number of open connections. */
  get size(): number {
    return this.handlers.size;
  }

  /** The connection with this id, if it is open. */
  get(id: string): WebSocketHandler | undefined {
    return this.handlers.get(id);
  }

  [Symbol.iterator](): IterableIterator<WebSocketHandler> {
    return this.handlers.values();
  }

  /** The open connections of the route with this full path pattern, e.g. `'/greet/:name'`. */
  byPath(pattern: string): WebSocketHandler[] {
    return [...(this.byRoute.get(pattern) ?? [])];
  }

  /** The open connections for which `predicate` returns true. */
  filter(predicate: (handler: WebSocketHandler) => boolean): WebSocketHandler[] {
    return [...this.handlers.values()].filter(predicate);
  }

  /** Emits each connection once its handshake succeeded. */
  get connections$(): Observable<WebSocketHandler> {
    return (this.opened ??= new Subject()).asObservable();
  }

  /** Emits each connection, with its close code and reason, once it has closed. */
  get disconnections$(): Observable<WebSocketDisconnection> {
    return (this.closed ??= new Subject()).asObservable();
  }

  /**
   * Sends `data` to every open connection (or those of `options.path`), honouring each one's
   * backpressure policy. Returns how many connections it was passed to.
   */
  broadcast(data: WebSocketMessage, options: BroadcastOptions = {}): number {
    const targets =
      options.path === undefined ? this.handlers.values() : (this.byRoute.get(options.path) ?? []);
    let sent = 0;
    for (const handler of targets) {
      if (handler === options.except || !handler.isOpen) continue;
      handler.send(data);
      sent++;
    }
    return sent;
  }

  /**
   * Closes every open connection with `code` (default 1001 "going away") after what each has
   * queued, and resolves once all have closed; each connection's `closeTimeoutMs` bounds the wait.
   */
  closeAll(code = 1001, reason = ''): Promise<void> {
    for (const handler of this.handlers.values()) handler.close(code, reason);
    if (this.handlers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** @internal */
  add(handler: WebSocketHandler): void {
    this.handlers.set(handler.id, handler);
    let routeSet = this.byRoute.get(handler.path);
    if (!routeSet) this.byRoute.set(handler.path, (routeSet = new Set()));
    routeSet.add(handler);
    this.opened?.next(handler);
  }

  /** @internal */
  remove(handler: WebSocketHandler, code: number, reason: string): void {
    if (!this.handlers.delete(handler.id)) return;
    this.byRoute.get(handler.path)?.delete(handler);
    this.closed?.next({ handler, code, reason });
    if (this.handlers.size === 0 && this.emptyWaiters.length > 0) {
      for (const resolve of this.emptyWaiters.splice(0)) resolve();
    }
  }
}
