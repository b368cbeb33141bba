import { Injectable } from '@nestjs/common';
import { WebSocketHandler, WebSocketRegistry, type WebSocketMessage } from '../../../src/index.js';

/** Everyone on `/news` gets every message, whichever instance either side is connected to. */
@Injectable()
export class NewsHandler extends WebSocketHandler {
  constructor(private readonly registry: WebSocketRegistry) {
    super();
  }

  override onOpen(): void {
    this.subscribe('news');
    this.send(`connected to the instance on port ${this.request.socket.localPort}`);
  }

  override onMessage(data: WebSocketMessage): void {
    // This instance's subscribers at once, the other instances' through Redis.
    this.registry.publish('news', data);
  }
}
