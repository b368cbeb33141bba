import { Module } from '@nestjs/common';
import { ChatRooms } from './chat-rooms.service.js';
import { ChatController } from './chat.controller.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * The chat: its route, and the services its handler is injected with. The member lists are the
 * library's presence, in process or shared through Redis as `WsModule.forRoot({ presence })` says.
 */
@Module({
  controllers: [ChatController],
  providers: [ChatRooms, RateLimiter],
})
export class ChatModule {}
