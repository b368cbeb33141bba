import { Injectable } from '@nestjs/common';
import { WebSocketHandler, type WebSocketMessage } from '../../src/index.js';
import { ChatRooms } from './chat-rooms.service.js';
import {
  chatError,
  nameFrom,
  parseClientMessage,
  roomFrom,
  sinceFrom,
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
    const since = sinceFrom(query.get('since'));
    const { members, recovery } = await this.rooms.join(this, this.room, this.member, since);
    // After a reconnect: whether the messages missed since `since` were all replayed (before this).
    const resumed =
      since === undefined || recovery === undefined
        ? undefined
        : { recovered: recovery.recovered, missed: recovery.replayed, reason: recovery.reason };
    const position = recovery?.position;
    this.sendMessage({
      type: 'members',
      room: this.room,
      you: this.member,
      members,
      position,
      resumed,
    });
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

  override async onClose(): Promise<void> {
    // Set in onOpen; a connection that failed before it never joined.
    if (this.member) await this.rooms.leave(this.room, this.member);
  }

  private sendMessage(message: ServerMessage): void {
    this.send(JSON.stringify(message));
  }
}
