import type {
  PresenceEvent,
  PresenceMember,
  PresenceStats,
  WebSocketPresence,
} from '../interfaces/presence.interface.js';

/**
 * The default presence store: one instance, in a map, no Redis. Joins and leaves are reported
 * synchronously, in the order they happen.
 */
export class InProcessPresence implements WebSocketPresence {
  private readonly topics = new Map<string, Map<string, PresenceMember>>();
  private emit: (event: PresenceEvent) => void = () => {};
  private members = 0;

  async start(emit: (event: PresenceEvent) => void): Promise<void> {
    this.emit = emit;
  }

  async join(topic: string, member: PresenceMember): Promise<void> {
    let members = this.topics.get(topic);
    if (!members) this.topics.set(topic, (members = new Map()));
    if (!members.has(member.clientId)) this.members++;
    members.set(member.clientId, member);
    this.emit({ topic, joins: [member], leaves: [] });
  }

  async leave(topic: string, clientId: string): Promise<void> {
    const members = this.topics.get(topic);
    const member = members?.get(clientId);
    if (!members || !member) return;
    members.delete(clientId);
    this.members--;
    if (members.size === 0) this.topics.delete(topic);
    this.emit({ topic, joins: [], leaves: [member] });
  }

  async list(topic: string): Promise<PresenceMember[]> {
    return [...(this.topics.get(topic)?.values() ?? [])];
  }

  async count(topic: string): Promise<number> {
    return this.topics.get(topic)?.size ?? 0;
  }

  stats(): PresenceStats {
    return { name: 'in-process', connected: true, members: this.members };
  }

  async stop(): Promise<void> {
    this.topics.clear();
    this.members = 0;
  }
}
