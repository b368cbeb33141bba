import { kTopics } from '../handler/handler.symbols.js';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import type { WebSocketBroker } from '../interfaces/websocket-broker.interface.js';

/**
 * Which of this instance's connections follow which topics: each connection's own topics (kept on
 * the handler), the members a publication reaches (a connection joins once its subscription and
 * resume are complete), and per topic how many connections subscribed, joined or still resuming,
 * so that the broker follows a topic from its first subscriber here to its last (`topicJoined`,
 * `topicLeft`).
 */
export class TopicSubscriptions {
  private readonly members = new Map<string, Set<WebSocketHandler>>();
  /** Per topic, how many local connections subscribed (joined or still resuming). */
  private readonly interest = new Map<string, number>();

  constructor(private readonly broker: Pick<WebSocketBroker, 'topicJoined' | 'topicLeft'>) {}

  /** Topics with at least one member. */
  get size(): number {
    return this.members.size;
  }

  topics(): string[] {
    return [...this.members.keys()];
  }

  /** The members of `topic`, if it has any. */
  membersOf(topic: string): Set<WebSocketHandler> | undefined {
    return this.members.get(topic);
  }

  count(topic: string): number {
    return this.members.get(topic)?.size ?? 0;
  }

  /** `handler` starts subscribing to `topic`; the broker follows the topic from its first one. */
  add(handler: WebSocketHandler, topic: string): void {
    const topics = (handler[kTopics] ??= new Set());
    if (topics.has(topic)) return;
    topics.add(topic);
    const interested = (this.interest.get(topic) ?? 0) + 1;
    this.interest.set(topic, interested);
    if (interested === 1) this.broker.topicJoined?.(topic);
  }

  /** Makes `handler` a member once its subscription (and resume) is complete; false if it left. */
  join(handler: WebSocketHandler, topic: string): boolean {
    if (!handler[kTopics]?.has(topic)) return false;
    let members = this.members.get(topic);
    if (!members) this.members.set(topic, (members = new Set()));
    members.add(handler);
    return true;
  }

  /**
   * `handler` leaves `topic`: returns how many members stay, or undefined if it had not
   * subscribed. The broker stops following the topic after its last subscriber here.
   */
  remove(handler: WebSocketHandler, topic: string): number | undefined {
    if (!handler[kTopics]?.delete(topic)) return undefined;
    const members = this.members.get(topic);
    members?.delete(handler);
    const remaining = members?.size ?? 0;
    if (members !== undefined && remaining === 0) this.members.delete(topic);
    const interested = (this.interest.get(topic) ?? 1) - 1;
    if (interested > 0) this.interest.set(topic, interested);
    else {
      this.interest.delete(topic);
      this.broker.topicLeft?.(topic);
    }
    return remaining;
  }
}
