import { Module } from '@nestjs/common';
import { RedisPresence, WsModule } from '../../../src/index.js';
import { OnlineController } from './online.controller.js';

/**
 * REDIS_URL (default redis://127.0.0.1:6379): every instance started with the same one shares who
 * is online. REDIS_CLUSTER (`host:port,host:port`, instead of REDIS_URL): the same on a Redis
 * Cluster. PRESENCE_HEARTBEAT_MS (default 10000): how often each instance records its members
 * again; a dead instance's members are gone within two periods.
 */
const cluster = process.env.REDIS_CLUSTER?.split(',').map((node) => {
  const [host = '127.0.0.1', port] = node.split(':');
  return { host, port: Number(port) };
});

@Module({
  imports: [
    WsModule.forRoot({
      presence: new RedisPresence({
        ...(cluster ? { cluster } : { url: process.env.REDIS_URL || undefined }),
        prefix: 'presence-example',
        heartbeatMs: Number(process.env.PRESENCE_HEARTBEAT_MS ?? 10_000),
      }),
    }),
  ],
  controllers: [OnlineController],
})
export class PresenceExampleModule {}
