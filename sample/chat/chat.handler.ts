import { Injectable } from '@nestjs/common';
import {
  WebSocketHandler,
  parseSince,
  type PresenceEvent,
  type WebSocketMessage,
} from '../../src/index.js';
import { ChatRooms } from './chat-rooms.service.js';
import {
  chatError,
  nameFrom,
  parseClientMessage,
  roomFrom,
  type Member,
  type ServerMessage,
} from './chat.protocol.js';
import { RateLimiter, type TokenBucket } from './rate-limiter.js';

/**
 * One chat connection. The services come from `ChatModule` by constructor injection; the room and
 * name from the query string (`/chat?room=lobby&name=Ada`).
 *
 * Bad input never crashes anything: a binary frame closes with 1003, a frame over 4 KiB with 1009
 * (`maxPayload`, by `ws`), invalid UTF-8 with 1007 (by `ws`); malformed JSON or an unknown message
 * gets an `error` message back and the connection stays open. Past the rate limit messages are
 * refused with an `error`; ten refused in a row close with 1008.
 */
const SLOW_DOWN = 'Slow down: that message was not sent';

@Injectable()
export class ChatHandler extends WebSocketHandler {
  private room!: string;
  private member!: Member;
  private bucket!: TokenBucket;
  /** Presence changes that came before the member list was sent; undefined once it was. */
  private early: PresenceEvent[] | undefined = [];

  constructor(
    private readonly rooms: ChatRooms,
    private readonly limiter: RateLimiter,
  ) {
    super();
  }

  override async onOpen(): Promise<void> {
    const query = this.query;
    this.room = roomFrom(query.get('room'));
    this.member = { id: this.id, name: nameFrom(query.get('name'), this.id) };
    this.bucket = this.limiter.createBucket();
    // `?since=`: the room's last position the page saw, when it reconnects.
    const since = parseSince(query);
    const { topic, members, recovery } = await this.rooms.join(this, this.room, this.member, since);
    const resumed = since.has(topic)
      ? { recovered: recovery.recovered, missed: recovery.replayed, reason: recovery.reason }
      : undefined;
    this.sendMessage({ type: 'members', room: this.room, you: this.member, members, resumed });
    const listed = new Set(members.map((member) => member.id));
    for (const event of this.early ?? []) this.tell(event, listed);
    this.early = undefined;
  }

  /** Someone joined or left the room, on any instance: `members` is always the first message. */
  override onPresence(event: PresenceEvent): void {
    if (this.early) this.early.push(event);
    else this.tell(event);
  }

  override onMessage(data: WebSocketMessage): void {
    if (typeof data !== 'string') return this.close(1003, 'chat.v1 speaks JSON text frames only');
    const verdict = this.bucket.take();
    if (verdict === 'abusive') return this.close(1008, 'rate limit exceeded');
    if (verdict === 'limited') return this.sendMessage(chatError('rate-limited', SLOW_DOWN));
    const message = parseClientMessage(data);
    if (message.type === 'error') this.sendMessage(message);
    else this.rooms.say(this.room, this.member, message.text);
  }

  private tell(event: PresenceEvent, listed?: ReadonlySet<string>): void {
    for (const notice of this.rooms.notices(event, this.member, listed)) this.sendMessage(notice);
  }

  private sendMessage(message: ServerMessage): void {
    this.send(JSON.stringify(message));
  }
}
