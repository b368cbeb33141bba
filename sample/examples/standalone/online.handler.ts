import { Injectable } from '@nestjs/common';
import { WebSocketHandler, WebSocketRegistry } from '../../../src/index.js';

/** Says how many connections are open: injection works the same with no HTTP server. */
@Injectable()
export class OnlineHandler extends WebSocketHandler {
  constructor(private readonly registry: WebSocketRegistry) {
    super();
  }

  override onOpen(): void {
    this.send(`online: ${this.registry.size}`);
  }
}
