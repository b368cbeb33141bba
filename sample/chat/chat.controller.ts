import { Controller } from '@nestjs/common';
import { WebSocketRoute } from '../../src/index.js';
import { ChatHandler } from './chat.handler.js';
import { CHAT_PROTOCOL, MAX_FRAME_BYTES } from './chat.protocol.js';

/** `/chat?room=<room>&name=<name>`: the chat page's backend. Clients must offer `chat.v1`. */
@Controller('chat')
export class ChatController {
  @WebSocketRoute('/', ChatHandler, {
    protocols: [CHAT_PROTOCOL], // 'chat.v1'
    requireProtocol: true, // a client that offers no chat.v1 gets 400 at the handshake
    maxPayload: MAX_FRAME_BYTES, // 4096: a bigger frame closes with 1009 before reaching the handler
    sendAfterClose: 'ignore', // the member list may come back from Redis after the client left
  })
  chat() {}
}
