import { Injectable } from '@nestjs/common';
import {
  WebSocketCloseCode,
  WebSocketCloseException,
  WebSocketRegistry,
  type PresenceEvent,
  type PresenceMember,
  type RecoveryResult,
  type StreamPosition,
  type WebSocketHandler,
  subscribedEnvelope,
} from '../../src/index.js';
import type { Member, ServerMessage } from './chat.protocol.js';

/**
 * Who is in which room. A room is a topic of the registry (`chat:<room>`): joining subscribes the
 * connection and joins the topic's presence with the member's name, and every message is one
 * `registry.publish()` to the room, which a broker carries to every instance. The member list is
 * the library's presence (shared through Redis with `RedisPresence`); a connection leaves its
 * topics and its presence by itself when it closes, and the handlers of the room hear it.
 */
@Injectable()
export class ChatRooms {
  constructor(private readonly registry: WebSocketRegistry) {}

  /**
   * Subscribes `handler` to `room`, adds `member` to its presence and returns everyone now in the
   * room, on every instance, with the room's topic and the recovery of what the page missed since
   * its position in `since` (the positions the page sent, after a reconnect): the missed messages
   * and the room's position (`subscribedEnvelope`) are sent before this resolves.
   */
  async join(
    handler: WebSocketHandler,
    room: string,
    member: Member,
    since: ReadonlyMap<string, StreamPosition>,
  ): Promise<{ topic: string; members: Member[]; recovery: RecoveryResult }> {
    const topic = topicOf(room); // chat:<room>
    const recovery = await handler.subscribe(topic, { since: since.get(topic) });
    // Where the room is, and whether every missed message was replayed (before this), sent before
    // the next publication: the page's client keeps the position, and fires `lost` if not.
    const subscribed = subscribedEnvelope(topic, recovery);
    if (subscribed) handler.send(subscribed);
    await handler.joinPresence(topic, { name: member.name });
    try {
      return { topic, members: (await this.registry.presence(topic)).map(memberOf), recovery };
    } catch {
      // Redis is away: 1013 "try again later", and the page reconnects by itself.
      throw new WebSocketCloseException(
        WebSocketCloseCode.TRY_AGAIN_LATER,
        'chat rooms unavailable, try again later',
      );
    }
  }

  /**
   * The `joined` and `left` notices of a presence change, for `me` (never about itself). With
   * `listed`, the members `me` was sent: a join already listed, or a leave of someone not listed,
   * is no news.
   */
  notices(event: PresenceEvent, me: Member, listed?: ReadonlySet<string>): ServerMessage[] {
    const at = Date.now();
    const notices: ServerMessage[] = [];
    for (const joined of event.joins) {
      if (joined.clientId === me.id || listed?.has(joined.clientId)) continue;
      notices.push({ type: 'joined', member: memberOf(joined), at });
    }
    for (const left of event.leaves) {
      if (left.clientId === me.id || (listed && !listed.has(left.clientId))) continue;
      notices.push({ type: 'left', member: memberOf(left), at });
    }
    return notices;
  }

  /** Sends `text` from `from` to everyone in `room`, the sender included (it confirms the order). */
  say(room: string, from: Member, text: string): void {
    this.publish(room, { type: 'said', from, text, at: Date.now() });
  }

  private publish(room: string, message: ServerMessage): void {
    // Serialised once for the whole room.
    this.registry.publish(topicOf(room), JSON.stringify(message));
  }
}

function topicOf(room: string): string {
  return `chat:${room}`;
}

function memberOf({ clientId, info }: PresenceMember): Member {
  return { id: clientId, name: String(info.name) };
}
