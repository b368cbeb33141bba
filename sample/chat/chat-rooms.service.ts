import { Injectable } from '@nestjs/common';
import {
  WebSocketRegistry,
  type RecoveryResult,
  type StreamPosition,
  type WebSocketHandler,
} from '../../src/index.js';
import type { Member, ServerMessage } from './chat.protocol.js';
import { RoomMembers } from './room-members.js';

/**
 * Who is in which room. A room is a topic of the registry (`chat:<room>`): joining subscribes the
 * connection, and every announcement is one `registry.publish()` to the room, which a broker
 * carries to every instance. A connection leaves its topics by itself when it closes; the member
 * list is kept by `RoomMembers` (in memory, or in Redis when instances share rooms).
 */
@Injectable()
export class ChatRooms {
  constructor(
    private readonly registry: WebSocketRegistry,
    private readonly members: RoomMembers,
  ) {}

  /**
   * Adds `member` to `room`, tells the others, and returns everyone now in the room, with the
   * recovery of what the page missed since `since` (its last position, after a reconnect).
   */
  async join(
    handler: WebSocketHandler,
    room: string,
    member: Member,
    since?: StreamPosition,
  ): Promise<{ members: Member[]; recovery?: RecoveryResult }> {
    const members = await this.members.add(room, member);
    // Closed while Redis answered: its onClose removes it, so announce nothing.
    if (!handler.isOpen) return { members };
    // chat:<room>; the messages missed since `since` are sent before it resolves.
    const recovery = await handler.subscribe(topicOf(room), { since });
    this.publish(room, { type: 'joined', member, at: Date.now() }, handler);
    return { members, recovery };
  }

  /** Removes `member` from `room` and tells the others. */
  async leave(room: string, member: Member): Promise<void> {
    if (!(await this.members.remove(room, member))) return;
    this.publish(room, { type: 'left', member, at: Date.now() });
  }

  /** Sends `text` from `from` to everyone in `room`, the sender included (it confirms the order). */
  say(room: string, from: Member, text: string): void {
    this.publish(room, { type: 'said', from, text, at: Date.now() });
  }

  private publish(room: string, message: ServerMessage, except?: WebSocketHandler): void {
    // Serialised once for the whole room.
    this.registry.publish(topicOf(room), JSON.stringify(message), { except });
  }
}

function topicOf(room: string): string {
  return `chat:${room}`;
}
