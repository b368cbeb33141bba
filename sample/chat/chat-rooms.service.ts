import { Injectable } from '@nestjs/common';
import { WebSocketRegistry, type WebSocketHandler } from '../../src/index.js';
import type { Member, ServerMessage } from './chat.protocol.js';

/**
 * Who is in which room. A room is a topic of the registry (`chat:<room>`): joining subscribes the
 * connection, and every announcement is one `registry.publish()` to the room. A connection leaves
 * its topics by itself when it closes; the member list is kept here.
 */
@Injectable()
export class ChatRooms {
  private readonly rooms = new Map<string, Map<string, Member>>();

  constructor(private readonly registry: WebSocketRegistry) {}

  /** Adds `member` to `room`, tells the others, and returns everyone now in the room. */
  join(handler: WebSocketHandler, room: string, member: Member): Member[] {
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Map()));
    members.set(member.id, member);
    handler.subscribe(topicOf(room)); // chat:<room>
    this.publish(room, { type: 'joined', member, at: Date.now() }, handler);
    return [...members.values()];
  }

  /** Removes `member` from `room` and tells the others. */
  leave(room: string, member: Member): void {
    const members = this.rooms.get(room);
    if (!members?.delete(member.id)) return;
    if (members.size === 0) this.rooms.delete(room);
    this.publish(room, { type: 'left', member, at: Date.now() });
  }

  /** Sends `text` from `from` to everyone in `room`, the sender included (it confirms the order). */
  say(room: string, from: Member, text: string): void {
    this.publish(room, { type: 'said', from, text, at: Date.now() });
  }

  /** The members of `room`. */
  members(room: string): Member[] {
    return [...(this.rooms.get(room)?.values() ?? [])];
  }

  private publish(room: string, message: ServerMessage, except?: WebSocketHandler): void {
    // Serialised once for the whole room.
    this.registry.publish(topicOf(room), JSON.stringify(message), { except });
  }
}

function topicOf(room: string): string {
  return `chat:${room}`;
}
