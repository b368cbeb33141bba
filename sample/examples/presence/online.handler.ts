import { Injectable } from '@nestjs/common';
import {
  WebSocketHandler,
  WebSocketRegistry,
  type PresenceEvent,
  type WebSocketMessage,
} from '../../../src/index.js';

/**
 * Joins the presence of `?topic=` (default `lobby`) as `?name=`, sends the members, then every
 * join and leave, as JSON. The text `leave` leaves the presence; the connection stays open.
 */
@Injectable()
export class OnlineHandler extends WebSocketHandler {
  private topic = 'lobby';

  constructor(private readonly registry: WebSocketRegistry) {
    super();
  }

  override async onOpen(): Promise<void> {
    this.topic = this.query.get('topic') || 'lobby';
    await this.joinPresence(this.topic, { name: this.query.get('name') || 'guest' });
    const members = await this.registry.presence(this.topic);
    this.send(JSON.stringify({ type: 'members', members }));
  }

  override async onMessage(data: WebSocketMessage): Promise<void> {
    if (data === 'leave') await this.leavePresence(this.topic);
  }

  override onPresence({ joins, leaves }: PresenceEvent): void {
    this.send(JSON.stringify({ type: 'presence', joins, leaves }));
  }
}
