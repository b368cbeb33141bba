import { Module } from '@nestjs/common';
import { RedisBroker, WsModule } from '../../../src/index.js';
import { NewsController } from './news.controller.js';

/** REDIS_URL (default redis://127.0.0.1:6379): every instance started with the same one shares topics. */
@Module({
  imports: [
    WsModule.forRoot({
      broker: new RedisBroker({ url: process.env.REDIS_URL, channel: 'redis-example' }),
    }),
  ],
  controllers: [NewsController],
})
export class RedisExampleModule {}
