import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { kTopics } from '../handler/handler.symbols.js';
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

/** Options of `WebSocketRegistry.publish()`. */
export interface PublishOptions {
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
  private readonly topicMembers = new Map<string, Set<WebSocketHandler>>();
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
   * Sends `data` to every connection subscribed to `topic` (see `handler.subscribe()`). A topic
   * nobody subscribed to costs one map lookup. Returns how many connections it was passed to.
   */
  publish(topic: string, data: WebSocketMessage, options: PublishOptions = {}): number {
    const members = this.topicMembers.get(topic);
    if (!members) return 0;
    let sent = 0;
    for (const handler of members) {
      if (handler === options.except || !handler.isOpen) continue;
      handler.send(data);
      sent++;
    }
    return sent;
  }

  /** The topics that have at least one subscriber. */
  topics(): string[] {
    return [...this.topicMembers.keys()];
  }

  /** How many connections are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.topicMembers.get(topic)?.size ?? 0;
  }

  /** @internal use `handler.subscribe(topic)`. */
  subscribe(handler: WebSocketHandler, topic: string): void {
    if (!this.handlers.has(handler.id)) return;
    (handler[kTopics] ??= new Set()).add(topic);
    let members = this.topicMembers.get(topic);
    if (!members) this.topicMembers.set(topic, (members = new Set()));
    members.add(handler);
  }

  /** @internal use `handler.unsubscribe(topic)`. */
  unsubscribe(handler: WebSocketHandler, topic: string): void {
    if (!handler[kTopics]?.delete(topic)) return;
    const members = this.topicMembers.get(topic);
    if (!members) return;
    members.delete(handler);
    if (members.size === 0) this.topicMembers.delete(topic);
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
    const topics = handler[kTopics];
    if (topics) for (const topic of topics) this.unsubscribe(handler, topic);
    this.closed?.next({ handler, code, reason });
    if (this.handlers.size === 0 && this.emptyWaiters.length > 0) {
      for (const resolve of this.emptyWaiters.splice(0)) resolve();
    }
  }
}
