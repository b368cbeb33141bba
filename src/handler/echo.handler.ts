import { Injectable } from '@nestjs/common';
import { WebSocketHandler, type WebSocketMessage } from './websocket-handler.js';

/** Sends every message back unchanged: text as text, binary as binary (ws4py's `EchoWebSocket`). */
@Injectable()
export class EchoHandler extends WebSocketHandler {
  override onMessage(data: WebSocketMessage): void {
    this.send(data);
  }
}
