import { Module } from '@nestjs/common';
import { ChatRooms } from './chat-rooms.service.js';
import { ChatController } from './chat.controller.js';
import { RateLimiter } from './rate-limiter.js';

/** The chat: its route, and the services its handler is injected with. */
@Module({
  controllers: [ChatController],
  providers: [ChatRooms, RateLimiter],
})
export class ChatModule {}
