import { Observable, Subject } from 'rxjs';
import { kContext } from '../handler/handler.symbols.js';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import type {
  PresenceEvent,
  PresenceInfo,
  PresenceMember,
  PresenceStats,
  WebSocketPresence,
} from '../interfaces/presence.interface.js';
import { presenceInfoNotJsonMessage } from './presence.messages.js';

/**
 * The registry's part of presence: which of this instance's connections joined which topics (so a
 * closed connection leaves them all), the `presence$` stream, and the `onPresence()` hook of the
 * handlers that follow a topic. The store (`WebSocketPresence`) keeps the cluster-wide lists.
 */
export class PresenceTracker {
  /** This instance's members by topic. */
  private readonly local = new Map<string, Set<WebSocketHandler>>();
  private readonly joined = new Map<WebSocketHandler, Set<string>>();
  private events?: Subject<PresenceEvent>;

  constructor(private readonly store: WebSocketPresence) {}

  start(subscribersOf: (topic: string) => Iterable<WebSocketHandler> | undefined): Promise<void> {
    return this.store.start((event) => this.dispatch(event, subscribersOf(event.topic)));
  }

  stop(): Promise<void> {
    this.events?.complete();
    return this.store.stop();
  }

  get events$(): Observable<PresenceEvent> {
    return (this.events ??= new Subject()).asObservable();
  }

  async join(handler: WebSocketHandler, topic: string, info: PresenceInfo): Promise<void> {
    assertJsonObject(topic, info);
    let topics = this.joined.get(handler);
    if (!topics) this.joined.set(handler, (topics = new Set()));
    topics.add(topic);
    let members = this.local.get(topic);
    if (!members) this.local.set(topic, (members = new Set()));
    members.add(handler);
    await this.store.join(topic, { clientId: handler.id, info });
  }

  leave(handler: WebSocketHandler, topic: string): Promise<void> {
    const topics = this.joined.get(handler);
    if (!topics?.delete(topic)) return Promise.resolve();
    if (topics.size === 0) this.joined.delete(handler);
    const members = this.local.get(topic);
    members?.delete(handler);
    if (members?.size === 0) this.local.delete(topic);
    return this.store.leave(topic, handler.id);
  }

  /** A connection closed: it leaves every topic it joined (the stores never reject a leave). */
  leaveAll(handler: WebSocketHandler): void {
    const topics = this.joined.get(handler);
    if (topics) for (const topic of topics) void this.leave(handler, topic);
  }

  list(topic: string): Promise<PresenceMember[]> {
    return this.store.list(topic);
  }

  count(topic: string): Promise<number> {
    return this.store.count(topic);
  }

  stats(): PresenceStats {
    return this.store.stats();
  }

  /** To `presence$`, then to `onPresence()` of this topic's subscribers and members here. */
  private dispatch(
    event: PresenceEvent,
    subscribers: Iterable<WebSocketHandler> | undefined,
  ): void {
    this.events?.next(event);
    const members = this.local.get(event.topic);
    if (subscribers === undefined && members === undefined) return;
    const targets = new Set<WebSocketHandler>(subscribers);
    if (members) for (const handler of members) targets.add(handler);
    for (const handler of targets) {
      if (handler.onPresence !== undefined && handler.isOpen) {
        handler[kContext].runHook(handler, handler.onPresence, event);
      }
    }
  }
}

function assertJsonObject(topic: string, info: PresenceInfo): void {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new TypeError(presenceInfoNotJsonMessage(topic, 'not an object'));
  }
  try {
    JSON.stringify(info);
  } catch (error) {
    throw new TypeError(presenceInfoNotJsonMessage(topic, (error as Error).message), {
      cause: error,
    });
  }
}
