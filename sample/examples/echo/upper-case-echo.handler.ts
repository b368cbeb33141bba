import { Injectable, Logger } from '@nestjs/common';
import { WebSocketHandler, type WebSocketMessage } from '../../../src/index.js';

/** A handler of your own: one instance per connection, hooks for its life. */
@Injectable()
export class UpperCaseEchoHandler extends WebSocketHandler {
  private readonly logger = new Logger(UpperCaseEchoHandler.name);

  override onOpen(): void {
    this.send('ready: every message comes back in upper case');
  }

  override onMessage(data: WebSocketMessage): void {
    // Text arrives as a string, binary as a Buffer; send() keeps the frame type.
    this.send(typeof data === 'string' ? data.toUpperCase() : data);
  }

  override onClose(code: number, reason: string): void {
    this.logger.log(`connection ${this.id} closed: ${code} ${reason}`);
  }
}
