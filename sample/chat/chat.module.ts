import { Module, type DynamicModule } from '@nestjs/common';
import { ChatRooms } from './chat-rooms.service.js';
import { ChatController } from './chat.controller.js';
import { InMemoryRoomMembers } from './in-memory-room-members.js';
import { RateLimiter } from './rate-limiter.js';
import { RedisRoomMembers } from './redis-room-members.js';
import { RoomMembers } from './room-members.js';

/** Options of `ChatModule.forRoot()`. */
export interface ChatModuleOptions {
  /** Keep the member lists in this Redis, shared by every instance on it; else in memory. */
  redisUrl?: string;
}

/** The chat: its route, and the services its handler is injected with. */
@Module({})
export class ChatModule {
  static forRoot({ redisUrl }: ChatModuleOptions = {}): DynamicModule {
    return {
      module: ChatModule,
      controllers: [ChatController],
      providers: [
        ChatRooms,
        RateLimiter,
        {
          provide: RoomMembers,
          useFactory: () => (redisUrl ? new RedisRoomMembers(redisUrl) : new InMemoryRoomMembers()),
        },
      ],
    };
  }
}
