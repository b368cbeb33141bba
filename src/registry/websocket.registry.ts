import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { InProcessBroker } from '../broker/in-process.broker.js';
import { WebSocketCloseCode } from '../close-codes.js';
import type { BrokerMessage, WebSocketBroker } from '../interfaces/websocket-broker.interface.js';
import { kContext, kId, kTopics } from '../handler/handler.symbols.js';
import { lostContinuityReason } from '../history/history.messages.js';
import { TopicStreams } from '../history/topic-streams.js';
import type { TopicStreamsHost } from '../history/topic-streams.host.js';
import type {
  WebSocketCloseEvent,
  WebSocketHandler,
  WebSocketMessage,
} from '../handler/websocket-handler.js';
import type {
  ContinuityLoss,
  RecoveryResult,
  SubscribeOptions,
} from '../interfaces/stream-position.interface.js';
import type { WsModuleOptions } from '../interfaces/ws-module-options.interface.js';
import { InProcessPresence } from '../presence/in-process.presence.js';
import type {
  PresenceEvent,
  PresenceInfo,
  PresenceMember,
} from '../interfaces/presence.interface.js';
import { PresenceTracker } from '../presence/presence.tracker.js';
import { WS_MODULE_OPTIONS } from '../ws.module-definition.js';
import { fanOut } from './fan-out.js';
import { TopicSubscriptions } from './topic.subscriptions.js';
import type { WebSocketStats } from '../interfaces/websocket-stats.interface.js';
import { trafficByRoute, type RouteTraffic } from './traffic-stats.js';

/** What subscribing a connection that has closed resolves to. */
const CLOSED: RecoveryResult = {
  recovered: false,
  reason: 'closed',
  replayed: 0,
  position: undefined,
};

/** @internal where `stats()` finds the routes and refused handshakes (the module's host). */
export interface RegistryStatsSource {
  readonly routes: { readonly routes: readonly RouteTraffic[] } | undefined;
  readonly rejections: Readonly<Record<number, number>>;
}

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
 *
 * With a broker (`WsModule.forRoot({ broker })`), `publish()` and `broadcast()` also reach the
 * sockets of every other instance; everything else (`size`, `get`, iteration, `byPath`,
 * `filter`, `topics`, `subscriberCount`, `closeAll`, `stats`) is about this instance only.
 * Presence (`presence()`, `presenceCount()`, `presence$`) is cluster-wide with a presence store
 * that reaches the other instances (`WsModule.forRoot({ presence: new RedisPresence() })`).
 */
@Injectable()
export class WebSocketRegistry
  implements Iterable<WebSocketHandler>, OnModuleInit, OnApplicationShutdown
{
  private readonly broker: WebSocketBroker;
  /** False for the in-process broker: nothing to build or hand over per message. */
  private readonly brokerReachesOthers: boolean;
  private statsSource: RegistryStatsSource | undefined;
  private readonly handlers = new Set<WebSocketHandler>();
  /** The open connections whose id was read (`handler.id` is made on first read). */
  private readonly byId = new Map<string, WebSocketHandler>();
  private readonly byRoute = new Map<string, Set<WebSocketHandler>>();
  /** Topic membership of this instance's connections, and the broker's interest. */
  private readonly subscriptions: TopicSubscriptions;
  private readonly emptyWaiters: (() => void)[] = [];
  /** Positions, history and resume of the topics that keep history. */
  private readonly streams: TopicStreams;
  private opened?: Subject<WebSocketHandler>;
  private closed?: Subject<WebSocketDisconnection>;
  private readonly presenceTracker: PresenceTracker;

  constructor(@Optional() @Inject(WS_MODULE_OPTIONS) options?: WsModuleOptions) {
    this.broker = options?.broker ?? new InProcessBroker();
    this.brokerReachesOthers = !(this.broker instanceof InProcessBroker);
    this.subscriptions = new TopicSubscriptions(this.broker);
    this.presenceTracker = new PresenceTracker(options?.presence ?? new InProcessPresence());
    const host: TopicStreamsHost = {
      emit: (topic, payload, except) => {
        const members = this.subscriptions.membersOf(topic);
        if (members === undefined) return 0;
        return fanOut(members, payload, except === undefined ? undefined : this.byId.get(except));
      },
      deliver: (handler, payload) => fanOut([handler], payload, undefined),
      join: (handler, topic) => this.join(handler, topic),
      lost: (loss, handlers) => this.notifyLost(loss, handlers),
    };
    this.streams = new TopicStreams(options?.history, this.broker, host);
  }

  async onModuleInit(): Promise<void> {
    await this.broker.start((message) => this.deliverFromBroker(message));
    await this.presenceTracker.start((topic) => this.subscriptions.membersOf(topic));
  }

  async onApplicationShutdown(): Promise<void> {
    this.streams.stop();
    await this.broker.stop();
    await this.presenceTracker.stop();
  }

  /** Number of open connections. */
  get size(): number {
    return this.handlers.size;
  }

  /** The connection with this id, if it is open. */
  get(id: string): WebSocketHandler | undefined {
    return this.byId.get(id);
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
   * Sends `data` to every open connection (or those of the route `options.path`, a full path
   * pattern such as `'/chat/:room'`), honouring each one's backpressure policy; with a broker, on
   * every instance. The message is framed once and the same frame written to every socket.
   * Returns how many connections of this instance it was passed to.
   */
  broadcast(data: WebSocketMessage, options: BroadcastOptions = {}): number {
    // `path: null` (JSON, plain JavaScript) means no path, as undefined does.
    const path = options.path ?? undefined;
    if (this.brokerReachesOthers) this.broker.publish({ kind: 'broadcast', path, data });
    return this.broadcastLocally(data, path, options.except);
  }

  /**
   * Sends `data` to every connection subscribed to `topic` (see `handler.subscribe()`); with a
   * broker, on every instance. Framed once, like `broadcast()`. A topic nobody here subscribed to
   * costs one map lookup. Returns how many connections of this instance it was passed to.
   *
   * A topic with history (`WsModule.forRoot({ history })`) gets a position per publication; over a
   * broker that sequences (`RedisBroker`), every instance, this one included, delivers it once the
   * broker has given it its offset, and this returns 0.
   */
  publish(topic: string, data: WebSocketMessage, options: PublishOptions = {}): number {
    if (this.streams.config.enabled) {
      const passed = this.streams.publish(topic, data, options.except, this.brokerReachesOthers);
      if (passed !== undefined) return passed;
    }
    if (this.brokerReachesOthers) this.broker.publish({ kind: 'publish', topic, data });
    const members = this.subscriptions.membersOf(topic);
    return members === undefined ? 0 : fanOut(members, data, options.except);
  }

  /**
   * Counters of this instance: open connections, messages and bytes in and out (payload length)
   * and dropped sends, per route and in total; refused handshakes by HTTP status; the broker's.
   */
  stats(): WebSocketStats {
    const { routes, total } = trafficByRoute(this.statsSource?.routes?.routes ?? []);
    return {
      connections: this.handlers.size,
      topics: this.subscriptions.size,
      routes,
      total,
      rejectedHandshakes: { ...this.statsSource?.rejections },
      broker: this.broker.stats(),
      presence: this.presenceTracker.stats(),
    };
  }

  /** The topics that have at least one subscriber. */
  topics(): string[] {
    return this.subscriptions.topics();
  }

  /** How many connections are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.subscriptions.count(topic);
  }

  /**
   * The members of `topic`'s presence on every instance (see `handler.joinPresence()`). Rejects
   * while the presence store cannot be reached (`RedisPresence` without Redis).
   */
  presence(topic: string): Promise<PresenceMember[]> {
    return this.presenceTracker.list(topic);
  }

  /** How many members `topic`'s presence has on every instance; rejects as `presence()` does. */
  presenceCount(topic: string): Promise<number> {
    return this.presenceTracker.count(topic);
  }

  /**
   * Emits every change of every topic's presence, on every instance: `{ topic, joins, leaves }`
   * (Phoenix's `presence_diff`). Handlers get the changes of their topics in `onPresence()`.
   */
  get presence$(): Observable<PresenceEvent> {
    return this.presenceTracker.events$;
  }

  /** @internal use `handler.joinPresence(topic, info)`. */
  async joinPresence(handler: WebSocketHandler, topic: string, info: PresenceInfo): Promise<void> {
    if (!this.handlers.has(handler)) return;
    await this.presenceTracker.join(handler, topic, info);
  }

  /** @internal use `handler.leavePresence(topic)`. */
  leavePresence(handler: WebSocketHandler, topic: string): Promise<void> {
    return this.presenceTracker.leave(handler, topic);
  }

  /** @internal use `handler.subscribe(topic, options)`. */
  subscribe(
    handler: WebSocketHandler,
    topic: string,
    options: SubscribeOptions = {},
  ): Promise<RecoveryResult> {
    if (!this.handlers.has(handler)) return Promise.resolve(CLOSED);
    // The broker follows the topic from the start of the first subscribe (and its resume).
    this.subscriptions.add(handler, topic);
    return this.streams.subscribe(handler, topic, options);
  }

  /** @internal use `handler.unsubscribe(topic)`. */
  unsubscribe(handler: WebSocketHandler, topic: string): void {
    const remaining = this.subscriptions.remove(handler, topic);
    if (remaining !== undefined) this.streams.leave(handler, topic, remaining);
  }

  /** Adds a subscriber once its subscription (and resume) is complete; false if it has gone. */
  private join(handler: WebSocketHandler, topic: string): boolean {
    return this.handlers.has(handler) && this.subscriptions.join(handler, topic);
  }

  private notifyLost(loss: ContinuityLoss, handlers?: Iterable<WebSocketHandler>): void {
    for (const handler of handlers ?? this.subscriptions.membersOf(loss.topic) ?? []) {
      // Without a hook, the client must not go on as if nothing was missed: 3000 makes it
      // reconnect and fetch its state again (Centrifugo's "insufficient state" disconnect).
      if (handler.onContinuityLost === undefined)
        handler.close(WebSocketCloseCode.LOST_CONTINUITY, lostContinuityReason);
      else handler[kContext].runHook(handler, handler.onContinuityLost, loss);
    }
  }

  /**
   * Closes every open connection with `code` (default 1001 "going away") after what each has
   * queued, and resolves once all have closed; each connection's `closeTimeoutMs` bounds the wait.
   */
  closeAll(code: number = WebSocketCloseCode.GOING_AWAY, reason = ''): Promise<void> {
    for (const handler of this.handlers.values()) handler.close(code, reason);
    if (this.handlers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** @internal the module's host hands over its routes and refused handshakes at bootstrap. */
  attachStatsSource(source: RegistryStatsSource): void {
    this.statsSource = source;
  }

  private broadcastLocally(
    data: WebSocketMessage,
    path: string | undefined,
    except: WebSocketHandler | undefined,
  ): number {
    if (path === undefined) return fanOut(this.handlers.values(), data, except);
    const routeSet = this.byRoute.get(path);
    return routeSet === undefined ? 0 : fanOut(routeSet, data, except);
  }

  private deliverFromBroker(message: BrokerMessage): void {
    if (message.kind === 'broadcast') {
      this.broadcastLocally(message.data, message.path, undefined);
      return;
    }
    if (this.streams.config.enabled && this.streams.receive(message)) return;
    const members = this.subscriptions.membersOf(message.topic);
    if (members !== undefined) fanOut(members, message.data, undefined);
  }

  /** @internal the handler's id was made: an open connection can be found by it. */
  identified(handler: WebSocketHandler, id: string): void {
    if (this.handlers.has(handler)) this.byId.set(id, handler);
  }

  /** @internal */
  add(handler: WebSocketHandler): void {
    this.handlers.add(handler);
    const id = handler[kId];
    if (id !== undefined) this.byId.set(id, handler);
    let routeSet = this.byRoute.get(handler.path);
    if (!routeSet) this.byRoute.set(handler.path, (routeSet = new Set()));
    routeSet.add(handler);
    this.opened?.next(handler);
  }

  /** @internal */
  remove(handler: WebSocketHandler, code: number, reason: string): void {
    if (!this.handlers.delete(handler)) return;
    const id = handler[kId];
    if (id !== undefined) this.byId.delete(id);
    this.byRoute.get(handler.path)?.delete(handler);
    const topics = handler[kTopics];
    if (topics) for (const topic of topics) this.unsubscribe(handler, topic);
    this.presenceTracker.leaveAll(handler);
    this.closed?.next({ handler, code, reason });
    if (this.handlers.size === 0 && this.emptyWaiters.length > 0) {
      for (const resolve of this.emptyWaiters.splice(0)) resolve();
    }
  }
}
